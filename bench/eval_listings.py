"""`make eval`: the local listing writer on the real grocery photos, against the MercadoLibre sandbox.

For each of the six sample products (2-3 natural phone shots, a prompt WITHOUT the brand): is the
brand right, is the category reasonable, how many required attributes are filled, does the title
break a rule, does the listing pass the sandbox's `items/validate` once price and quantity are
supplied, and how long it took. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.serving import make_server

from bench.report import write_section
from chalicelib.content import READ_SIDE
from chalicelib.domain.listing_rules import title_problems
from chalicelib.domain.search import fold
from chalicelib.drafts import compose_listing
from chalicelib.imaging import compose_main_picture, full_decode
from chalicelib.marketplace.mercadolibre import MercadoLibreClient, MercadoLibreError
from chalicelib.providers.listing import Photo
from chalicelib.providers.local_remover import LocalRemover
from chalicelib.providers.local_writer import LocalWriter
from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState
from tests.photos import grocery_photo

# (product folder, the seller's hint without the brand, the brand, words a reasonable category path has)
LABELLED = [
    ("Alpro-Fresh-Soy-Milk", "leche de soja 1 litro", "Alpro", ("leche", "bebida")),
    ("Arla-Standard-Milk", "leche entera 1 litro", "Arla", ("leche",)),
    ("Bravo-Orange-Juice", "jugo de naranja 1 litro", "Bravo", ("jugo", "bebida")),
    ("Oatly-Oat-Milk", "leche de avena 1 litro", "Oatly", ("leche", "bebida")),
    ("Tropicana-Apple-Juice", "jugo de manzana 1 litro", "Tropicana", ("jugo", "bebida")),
    ("Valio-Vanilla-Yoghurt", "yogur de vainilla 1 kg", "Valio", ("yogur", "lacteo")),
]
REDIRECT = "http://127.0.0.1/eval/callback"


class SandboxCategories:
    """The CategorySource the content step uses, straight from the (sandbox) API, uncached."""

    def __init__(self, client: MercadoLibreClient) -> None:
        self.client = client

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        return self.client.predict_category(site, query, limit)

    def category(self, category_id: str) -> dict[str, Any]:
        return self.client.category(category_id)

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]:
        return self.client.category_attributes(category_id)


def _seller_token(client: MercadoLibreClient, base: str) -> str:
    url = client.authorization_url("MLA", "eval", None)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = requests.post(
        f"{base}/authorization",
        data={**params, "nickname": "EVAL", "site_id": "MLA"},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return client.exchange_code(code).access_token


def main() -> None:
    server = make_server("127.0.0.1", 0, create_app(SandboxState()), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    client = MercadoLibreClient(base, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT, auth_base_url=base)
    token = _seller_token(client, base)
    writer, remover, categories = LocalWriter(), LocalRemover(), SandboxCategories(client)
    rows, brands, reasonable, violations, validated, seconds = [], 0, 0, 0, 0, []
    for folder, prompt, brand, category_words in LABELLED:
        shots = [grocery_photo(folder, shot) for shot in ("001", "002", "003")]
        started = time.perf_counter()
        main_picture = compose_main_picture(remover.cutout(full_decode(shots[0])).image)
        photos = [
            Photo(
                f"{folder}-{n}",
                full_decode(shot, READ_SIDE),
                n == 0,
                full_decode(main_picture, READ_SIDE) if n == 0 else None,
            )
            for n, shot in enumerate(shots)
        ]
        draft = compose_listing(writer, categories, prompt, photos, "MLA")
        seconds.append(time.perf_counter() - started)
        found = draft.facts.brand.value if draft.facts.brand else "-"
        brand_ok = fold(found) == fold(brand)
        category_ok = any(word in fold(draft.category["path"]) for word in category_words)
        problems = title_problems(draft.title, draft.category["title_limit"])
        picture = client.upload_picture(token, main_picture)
        item = {
            "title": draft.title,
            "category_id": draft.category["id"],
            "price": 1500.0,
            "currency_id": "ARS",
            "available_quantity": 5,
            "buying_mode": "buy_it_now",
            "listing_type_id": "gold_special",
            "condition": "new",
            "pictures": [{"id": picture["id"]}],
            "attributes": [
                {
                    k: v
                    for k, v in {
                        "id": a["id"],
                        "value_id": a["value_id"],
                        "value_name": a["value_name"],
                    }.items()
                    if v
                }
                for a in draft.attributes
            ],
        }
        try:
            client.validate_item(token, item)
            valid = "yes"
            validated += 1
        except MercadoLibreError as error:
            valid = "no: " + "; ".join(c.code for c in error.causes)
        brands += brand_ok
        reasonable += category_ok
        violations += bool(problems)
        required = _required(categories, draft)
        filled_required = len(required - set(draft.missing_required))
        rows.append(
            f"| {folder} | {prompt} | {found} {'✓' if brand_ok else '✗'} | {draft.category['path']} "
            f"{'✓' if category_ok else '✗'} | {filled_required}/{len(required)} | {draft.title} "
            f"{'✓' if not problems else '✗'} | {valid} | {draft.confidence.overall:.2f} | "
            f"{seconds[-1]:.1f} s |"
        )
        print(rows[-1], flush=True)
    server.shutdown()
    total = len(LABELLED)
    body = (
        "The local writer (rapidocr OCR + prompt parsing + templates) on 3 natural phone shots per product "
        "from the Grocery Store Dataset (upscaled 3x), prompts without the brand, categories and "
        "validation from the MercadoLibre sandbox. Targets: brand right for at least 5 of 6, no title-rule "
        "violations, every listing passes `items/validate` with price and quantity supplied.\n\n"
        f"**Brand {brands}/{total}, reasonable category {reasonable}/{total}, title-rule violations "
        f"{violations}, passes items/validate {validated}/{total}, "
        f"{sum(seconds) / total:.1f} s per product** (main picture included).\n\n"
        "| product | prompt | brand found | category | required attributes | title | items/validate | "
        "confidence | time |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("Listing quality (make eval)", body)


def _required(categories: SandboxCategories, draft: Any) -> set[str]:
    from chalicelib.domain.listing_rules import required_ids

    return set(required_ids(categories.category_attributes(draft.category["id"])))


if __name__ == "__main__":
    main()
