"""A local MercadoLibre: OAuth, test sellers of both kinds, categories, the category predictor,
pictures, items and their life after publishing, notifications, and scripted answers for tests.

MercadoLibre has no sandbox (only test users), so the project carries this one. It speaks the wire
format of api.mercadolibre.com, built from the real data in `data/` and held to the 2026 developer
docs rule by rule: README.md, section MercadoLibre, lists each rule with the page behind it, and
what is not modelled. Start it with `python -m infra.local.mercadolibre` (see `__main__.py`) or, in
tests, `server.create_app(state)`.
"""
