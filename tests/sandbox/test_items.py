"""`/items/validate`, `/items`, descriptions and the seller's item search, with MercadoLibre's rules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sandbox.conftest import Seller, jpeg, sign_in

EXAMPLES = Path(__file__).parents[2] / "infra" / "local" / "mercadolibre" / "data" / "examples"


def causes_of(answer: Any) -> list[str]:
    assert answer.status_code == 400, answer.json
    assert (answer.json["message"], answer.json["error"], answer.json["status"]) == (
        "Validation error",
        "validation_error",
        400,
    )
    return [cause["code"] for cause in answer.json["cause"] if cause["type"] == "error"]


def test_a_valid_listing_validates_with_204_and_creates_nothing(seller: Seller) -> None:
    answer = seller.post("/items/validate", json=seller.listing())

    assert answer.status_code == 204
    assert answer.data == b""
    assert seller.get(f"/users/{seller.user_id}/items/search").json["results"] == []


def test_a_valid_listing_becomes_an_active_item(seller: Seller) -> None:
    listing = seller.listing()
    answer = seller.post("/items", json=listing)

    assert answer.status_code == 201
    item = answer.json
    recorded = json.loads(
        (EXAMPLES / "docs_post_items_response_MLB1548991737.json").read_text(encoding="utf-8")
    )
    assert set(recorded) - set(item) <= {
        "user_product_id",
        "inventory_id",
        "end_time",
        "expiration_time",
        "non_mercado_pago_payment_methods",
        "international_delivery_mode",
        "seller_address",
        "seller_contact",
        "location",
        "geolocation",
        "coverage_areas",
        "listing_source",
        "parent_item_id",
        "deal_ids",
        "automatic_relist",
        "item_relations",
    }
    assert re.fullmatch(r"MLA\d{10}", item["id"])
    digits = item["id"][3:]
    assert item["permalink"] == (
        f"https://articulo.mercadolibre.com.ar/MLA-{digits}-auriculares-bluetooth-jbl-tune-510bt-negro-_JM"
    )
    assert (item["status"], item["seller_id"], item["seller_custom_field"]) == (
        "active",
        seller.user_id,
        "SKU-JBL-510",
    )
    assert item["pictures"][0]["id"] == listing["pictures"][0]["id"]
    assert item["pictures"][0]["url"].endswith(".jpg")
    assert {a["id"]: a["name"] for a in item["attributes"]} == {"BRAND": "Marca", "MODEL": "Modelo"}
    assert seller.get(f"/items/{item['id']}").json == item


def test_an_mlb_seller_lists_in_brl_on_mercadolivre(client: FlaskClient) -> None:
    brazilian = sign_in(client, "VENDEDORBR", "MLB")
    listing = brazilian.listing(
        title="Fone De Ouvido Bluetooth Jbl Tune 510bt Preto",
        category_id="MLB196208",
        currency_id="BRL",
        price=249.9,
    )

    item = brazilian.post("/items", json=listing).json
    assert re.fullmatch(
        r"https://produto\.mercadolivre\.com\.br/MLB-\d{10}-fone-de-ouvido-[a-z0-9-]+-_JM", item["permalink"]
    )
    assert brazilian.post("/items/validate", json={**listing, "currency_id": "ARS"}).json["cause"][0][
        "code"
    ] == ("item.currency_id.invalid")
    assert causes_of(brazilian.post("/items/validate", json={**listing, "price": 5})) == [
        "item.price.invalid"
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"title": "Auriculares Bluetooth Jbl Tune 510bt Negro Con Microfono Y Estuche"},
            "item.title.length.invalid",
        ),
        ({"attributes": [{"id": "MODEL", "value_name": "Tune 510BT"}]}, "item.attributes.missing_required"),
        ({"attributes": []}, "item.attributes.missing_required"),
        ({"price": 0}, "item.price.invalid"),
        ({"price": -10}, "item.price.invalid"),
        ({"price": 10_000_000_000}, "item.price.invalid"),
        ({"currency_id": "USD"}, "item.currency_id.invalid"),
        ({"available_quantity": 0}, "item.available_quantity.invalid"),
        ({"buying_mode": "auction"}, "item.buying_mode.invalid"),
        ({"listing_type_id": "gold"}, "item.listing_type_id.invalid"),
        ({"condition": "not_specified"}, "item.condition.invalid"),
        ({"pictures": []}, "item.listing_type_id.requiresPictures"),
        ({"pictures": [{"id": "123456-MLA12345678901_022019"}]}, "item.pictures.picture_not_found"),
        ({"pictures": [{"source": "https://example.com/photo.jpg"}]}, "item.pictures.invalid"),
        ({"category_id": "MLA1051"}, "item.category_id.invalid"),
        ({"category_id": "MLA999999"}, "item.category_id.invalid"),
        ({"category_id": "MLB196208"}, "item.site_id.invalid"),
        ({"title": ""}, "body.required_fields"),
    ],
)
def test_each_rule_answers_with_its_cause(seller: Seller, change: dict[str, Any], code: str) -> None:
    listing = seller.listing(**change)

    assert causes_of(seller.post("/items/validate", json=listing)) == [code]
    assert causes_of(seller.post("/items", json=listing)) == [code]


def test_the_title_limit_is_the_category_s(client: FlaskClient) -> None:
    brazilian = sign_in(client, "VENDEDORBR", "MLB")
    title = (
        "Perfume Importado Masculino Eau De Toilette 100ml Original Lacrado Com Nota Fiscal Pronta Entrega"
    )
    listing = brazilian.listing(title=title, category_id="MLB6284", currency_id="BRL", price=199.0)

    assert 60 < len(title) <= 150
    assert brazilian.post("/items/validate", json=listing).status_code == 204


def test_required_attributes_come_from_the_real_sheet_where_there_is_one(seller: Seller) -> None:
    notebook = seller.listing(title="Notebook Lenovo Ideapad 3 Core I5 16gb 512gb Ssd", category_id="MLA1652")
    assert (
        seller.post("/items/validate", json={**notebook, "attributes": []}).status_code == 204
    )  # none required

    bad_values = [
        {"id": "MAIN_COLOR", "value_id": "999"},
        {"id": "IS_ULTRABOOK", "value_name": "Quizás"},
        {"id": "RAM_MEMORY", "value_name": "16 litros"},
        {"id": "RAM_SLOTS_NUMBER", "value_name": "dos"},
        {"id": "GPU", "value_name": "x" * 256},
    ]
    assert causes_of(seller.post("/items/validate", json={**notebook, "attributes": bad_values})) == [
        "item.attributes.invalid",
        "item.attributes.invalid",
        "item.attribute.number_invalid_format",
        "item.attribute.number_invalid_format",
        "item.attributes.invalid_length",
    ]
    good_values = [
        {"id": "MAIN_COLOR", "value_id": "2450295"},
        {"id": "IS_ULTRABOOK", "value_name": "no"},
        {"id": "RAM_MEMORY", "value_name": "16 GB"},
        {"id": "SSD_DATA_STORAGE_CAPACITY", "value_struct": {"number": 512, "unit": "GB"}},
        {"id": "RAM_SLOTS_NUMBER", "value_name": "2"},
        {"id": "GTIN", "value_id": "-1", "value_name": None},
    ]
    assert seller.post("/items/validate", json={**notebook, "attributes": good_values}).status_code == 204


def test_fields_of_the_wrong_type_are_refused_before_any_rule(seller: Seller) -> None:
    answer = seller.post("/items/validate", json=seller.listing(price="mucho", pictures=[[1, 2, 3]]))

    assert answer.status_code == 400
    assert answer.json["message"] == "body.invalid_field_types"
    assert (
        "invalid property type: [price] expected Number but was String value: mucho" in answer.json["error"]
    )
    assert "[pictures[0]] expected Map" in answer.json["error"]
    assert seller.post("/items", data="{", content_type="application/json").json["message"] == "body.invalid"


def test_someone_else_s_picture_cannot_be_used(client: FlaskClient, seller: Seller) -> None:
    other = sign_in(client, "OTHERSELLER")
    their_picture = other.upload(jpeg()).json["id"]

    assert causes_of(seller.post("/items", json=seller.listing(pictures=[{"id": their_picture}]))) == [
        "item.pictures.picture_not_found"
    ]


def test_a_description_is_posted_once_then_replaced_with_put(seller: Seller) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    path = f"/items/{item_id}/description"
    assert seller.get(path).status_code == 404

    first = seller.post(path, json={"plain_text": "Auriculares JBL.\nBatería de 40 horas."})
    assert first.status_code == 201
    assert (first.json["plain_text"], first.json["text"]) == ("Auriculares JBL.\nBatería de 40 horas.", "")

    second = seller.post(path, json={"plain_text": "Otra descripción"})
    assert second.status_code == 400
    assert second.json == {
        "message": "Item already has a description, use PUT instead",
        "error": "item.description.invalid",
        "status": 400,
        "cause": [],
    }

    replaced = seller.put(path, json={"plain_text": "Otra descripción"})
    assert replaced.status_code == 200
    assert seller.get(path).json["plain_text"] == "Otra descripción"
    assert seller.get(path).json["date_created"] == first.json["date_created"]
    assert seller.put(path, json={"plain_text": "x" * 50_001}).json["cause"][0]["code"] == (
        "item.descriptions.length_exceeded"
    )


def test_the_seller_sku_finds_the_item(seller: Seller) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    seller.post("/items", json=seller.listing(seller_custom_field="SKU-OTHER"))
    with_attribute = seller.post(
        "/items",
        json=seller.listing(
            seller_custom_field=None,
            attributes=[*seller.listing()["attributes"], {"id": "SELLER_SKU", "value_name": "SKU-ATTR"}],
        ),
    ).json["id"]

    search = seller.get(
        f"/users/{seller.user_id}/items/search", query_string={"seller_sku": "SKU-JBL-510"}
    ).json
    assert search["seller_id"] == str(seller.user_id)
    assert search["results"] == [item_id]
    assert search["paging"] == {"limit": 50, "offset": 0, "total": 1}
    by_attribute = seller.get(
        f"/users/{seller.user_id}/items/search", query_string={"seller_sku": "SKU-ATTR"}
    )
    assert by_attribute.json["results"] == [with_attribute]
    assert seller.get(f"/users/{seller.user_id}/items/search").json["paging"]["total"] == 3


def test_another_seller_s_items_are_forbidden(client: FlaskClient, seller: Seller) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    other = sign_in(client, "OTHERSELLER")

    for answer in (
        other.get(f"/items/{item_id}"),
        other.get(f"/items/{item_id}/description"),
        other.post(f"/items/{item_id}/description", json={"plain_text": "mine now"}),
        other.get(f"/users/{seller.user_id}/items/search"),
    ):
        assert answer.status_code == 403
        assert answer.json["error"] == "access_denied"
        assert answer.json["status"] == 403 and answer.json["cause"] == []
    assert other.get("/items/MLA0000000000").status_code == 404


def test_unknown_routes_and_methods_answer_in_mercadolibre_s_shape(client: FlaskClient) -> None:
    missing = client.get("/no/such/resource")
    assert missing.status_code == 404
    assert missing.json == {"message": "resource not found", "error": "not_found", "status": 404, "cause": []}
    assert missing.headers["X-Sandbox"] == "intellipost-local"

    wrong_method = client.delete("/items")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json) == {"message", "error", "status", "cause"}
