"""A local MercadoLibre: OAuth, categories, the category predictor, pictures and items.

MercadoLibre has no sandbox (only test users), so the project carries this one. It speaks the wire
format of api.mercadolibre.com, built from the real data in `data/`. Start it with
`python -m infra.local.mercadolibre` (see `__main__.py`) or, in tests, `server.create_app(state)`.
"""
