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


def search(seller: Seller, **params: Any) -> Any:
    return seller.get(f"/users/{seller.user_id}/items/search", query_string=params)


def test_sku_searches_seller_custom_field_and_seller_sku_the_attribute(seller: Seller) -> None:
    # items-y-busquedas: `sku` is seller_custom_field, `seller_sku` the SELLER_SKU attribute.
    by_field = seller.post("/items", json=seller.listing()).json["id"]  # seller_custom_field SKU-JBL-510
    seller.post("/items", json=seller.listing(seller_custom_field="SKU-OTHER"))
    attributes = [*seller.listing()["attributes"], {"id": "SELLER_SKU", "value_name": "SKU-JBL-510"}]
    by_attribute = seller.post(
        "/items", json=seller.listing(seller_custom_field=None, attributes=attributes)
    ).json["id"]

    found = search(seller, sku="SKU-JBL-510").json
    assert found["seller_id"] == str(seller.user_id)
    assert found["results"] == [by_field]
    assert found["paging"] == {"limit": 50, "offset": 0, "total": 1}
    assert search(seller, seller_sku="SKU-JBL-510").json["results"] == [by_attribute]
    assert search(seller, seller_sku="SKU-OTHER").json["results"] == []
    assert search(seller).json["paging"]["total"] == 3
    item = seller.get(f"/items/{by_attribute}").json
    assert {
        "id": "SELLER_SKU",
        "name": "SKU",
        "value_id": None,
        "value_name": "SKU-JBL-510",
        "value_struct": None,
    } in (item["attributes"])
    assert search(seller, limit=101).status_code == 400  # "un limit máximo de 100"
    assert search(seller, status="paused").json["results"] == []


def test_an_item_is_public_but_its_stock_is_the_owner_s(client: FlaskClient, seller: Seller) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    other = sign_in(client, "OTHERSELLER")

    owner_view = seller.get(f"/items/{item_id}").json
    anonymous = client.get(f"/items/{item_id}")
    assert anonymous.status_code == 200
    assert set(owner_view) - set(anonymous.json) == {"initial_quantity", "available_quantity", "channels"}
    assert other.get(f"/items/{item_id}").json == anonymous.json
    bad_token = client.get(f"/items/{item_id}", headers={"Authorization": "Bearer APP_USR-not-a-token"})
    assert bad_token.status_code == 401
    for answer in (
        other.get(f"/items/{item_id}/description"),
        other.post(f"/items/{item_id}/description", json={"plain_text": "mine now"}),
        other.put(f"/items/{item_id}", json={"price": 1}),
        other.get(f"/users/{seller.user_id}/items/search"),
    ):
        assert answer.status_code == 403
        # error-403: exactly the documented body, no `cause`
        assert answer.json == {
            "message": "access to the requested resource is forbidden",
            "error": "access_denied",
            "status": 403,
            "code": "FORBIDDEN",
        }
    assert client.get("/items/MLA0000000000").status_code == 404


def test_a_user_products_seller_names_the_family_and_mercadolibre_writes_the_title(
    client: FlaskClient,
) -> None:
    seller = sign_in(client, "UPSELLER", kind="user_products")
    assert "user_product_seller" in seller.get("/users/me").json["tags"]
    classic = seller.listing()
    family = {k: v for k, v in classic.items() if k != "title"} | {
        "family_name": "Auriculares Jbl Tune 510bt"
    }

    with_title = seller.post("/items", json={**family, "title": classic["title"]})
    assert (with_title.status_code, with_title.json) == (
        400,
        {
            "message": "The fields [title] are invalid for requested call.",
            "error": "body.invalid_fields",
            "status": 400,
            "cause": [],
        },
    )
    without_family = seller.post(
        "/items/validate", json={k: v for k, v in family.items() if k != "family_name"}
    )
    assert causes_of(without_family) == ["body.required_fields"]
    assert "family_name" in without_family.json["cause"][0]["message"]

    colored = [*family["attributes"], {"id": "COLOR", "value_name": "Negro"}]
    item = seller.post("/items", json={**family, "attributes": colored}).json
    assert (item["family_name"], item["title"]) == (
        "Auriculares Jbl Tune 510bt",
        "Auriculares Jbl Tune 510bt Negro",
    )
    assert "user_product_listing" in item["tags"] and item["user_product_id"].startswith("MLAU")
    # Its title never changes by itself; the family name does, while nothing was sold.
    assert seller.put(f"/items/{item['id']}", json={"title": "Otro"}).json["error"] == "body.invalid_fields"
    renamed = seller.put(f"/items/{item['id']}", json={"family_name": "Auriculares Jbl Tune 520bt"}).json
    assert renamed["title"] == "Auriculares Jbl Tune 520bt Negro"


def test_a_classic_seller_sends_no_family_name(seller: Seller) -> None:
    assert "user_product_seller" not in seller.get("/users/me").json["tags"]
    answer = seller.post("/items", json=seller.listing(family_name="Auriculares"))
    assert answer.json["error"] == "body.invalid_fields" and "family_name" in answer.json["message"]
    assert seller.post("/items", json=seller.listing()).json["family_name"] is None


def test_a_seller_with_account_data_missing_cannot_list(client: FlaskClient) -> None:
    seller = sign_in(client, "SINDATOS", data_pending="1")
    me = seller.get("/users/me").json
    assert me["status"]["list"]["allow"] is False
    assert me["status"]["list"]["codes"] == ["address_pending", "phone_pending"]

    for path in ("/items/validate", "/items"):
        answer = seller.post(path, json=seller.listing())
        # The real body: the code in `message`, the words in `error`, the causes as plain strings.
        assert (answer.status_code, answer.json) == (
            403,
            {
                "message": "seller.unable_to_list",
                "error": "User is unable to list.",
                "status": 403,
                "cause": ["address_pending", "phone_pending"],
            },
        )


def test_price_quantity_pictures_and_title_change_with_put(seller: Seller) -> None:
    item = seller.post("/items", json=seller.listing()).json
    path = f"/items/{item['id']}"
    new_picture = seller.upload(jpeg(900, 900)).json["id"]

    changed = seller.put(
        path,
        json={
            "price": 39999.5,
            "available_quantity": 7,
            "pictures": [{"id": new_picture}],
            "title": "Auriculares Jbl Tune 510bt Azul",
        },
    )
    assert changed.status_code == 200
    body = changed.json
    assert (body["price"], body["available_quantity"], body["title"]) == (
        39999.5,
        7,
        "Auriculares Jbl Tune 510bt Azul",
    )
    assert [p["id"] for p in body["pictures"]] == [new_picture] and body["thumbnail_id"] == new_picture
    assert seller.get(path).json == body

    for change, code in (
        ({"price": 0}, "item.price.invalid"),
        ({"pictures": []}, "item.listing_type_id.requiresPictures"),
        ({"pictures": [{"id": "1-MLA1_012024"}]}, "item.pictures.picture_not_found"),
        ({"title": "x" * 61}, "item.title.length.invalid"),
    ):
        assert causes_of(seller.put(path, json=change)) == [code]
    unknown = seller.put(path, json={"category_id": "MLA1055", "price": 1})
    assert unknown.json["error"] == "body.invalid_fields" and "category_id" in unknown.json["message"]
    assert seller.put(path, json={"price": "cara"}).json["message"] == "body.invalid_field_types"


def test_after_a_sale_the_title_is_locked_and_the_rest_still_changes(
    seller: Seller, client: FlaskClient
) -> None:
    item = seller.post("/items", json=seller.listing()).json
    path = f"/items/{item['id']}"
    sold = client.post(f"/_sandbox/items/{item['id']}/sales", json={"quantity": 2}).json
    assert (sold["sold_quantity"], sold["available_quantity"]) == (2, 3)

    assert causes_of(seller.put(path, json={"title": "Otro Titulo"})) == ["item.title.not_modifiable"]
    assert seller.put(path, json={"price": 50000}).json["price"] == 50000


def test_statuses_pause_reactivate_close_and_closed_is_final(seller: Seller) -> None:
    path = f"/items/{seller.post('/items', json=seller.listing()).json['id']}"

    paused = seller.put(path, json={"status": "paused"}).json
    assert (paused["status"], paused["sub_status"]) == ("paused", ["paused_by_seller"])
    assert search(seller, status="paused").json["paging"]["total"] == 1
    assert seller.put(path, json={"status": "active"}).json["status"] == "active"
    assert causes_of(seller.put(path, json={"status": "Paused"})) == ["item.status.invalid"]  # case-sensitive
    assert seller.put(path, json={"status": "closed"}).json["status"] == "closed"
    assert causes_of(seller.put(path, json={"status": "active"})) == ["item.status.closed"]
    assert causes_of(seller.put(path, json={"price": 10})) == ["item.status.closed"]


def test_no_stock_pauses_out_of_stock_and_new_stock_reactivates(seller: Seller) -> None:
    path = f"/items/{seller.post('/items', json=seller.listing()).json['id']}"

    empty = seller.put(path, json={"available_quantity": 0}).json
    assert (empty["status"], empty["sub_status"]) == ("paused", ["out_of_stock"])
    assert causes_of(seller.put(path, json={"status": "active"})) == ["item.status.out_of_stock"]
    refilled = seller.put(path, json={"available_quantity": 4}).json
    assert (refilled["status"], refilled["sub_status"]) == ("active", [])
    used = seller.post("/items", json=seller.listing(condition="used")).json
    assert causes_of(seller.put(f"/items/{used['id']}", json={"available_quantity": 0})) == [
        "item.available_quantity.invalid"
    ]


def test_an_item_under_review_shows_why_and_cannot_be_reactivated(
    seller: Seller, client: FlaskClient
) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    knob = f"/_sandbox/items/{item_id}/status"
    reviewed = client.post(knob, json={"status": "under_review", "sub_status": ["waiting_for_patch"]})
    assert reviewed.status_code == 200
    assert client.post(knob, json={"status": "under_review", "sub_status": ["sleeping"]}).status_code == 400

    shown = client.get(f"/items/{item_id}").json
    assert (shown["status"], shown["sub_status"]) == ("under_review", ["waiting_for_patch"])
    assert causes_of(seller.put(f"/items/{item_id}", json={"status": "active"})) == [
        "item.status.under_review"
    ]
    assert seller.put(f"/items/{item_id}", json={"status": "closed"}).json["status"] == "closed"


def test_a_description_must_be_plain_text(seller: Seller) -> None:
    item_id = seller.post("/items", json=seller.listing()).json["id"]
    answer = seller.post(f"/items/{item_id}/description", json={"plain_text": "< br > \U0001f600"})
    # descripcion-de-articulos' own example: the emoji at plain_text[7]
    assert answer.json["cause"] == [
        {
            "department": "items",
            "cause_id": 398,
            "type": "error",
            "code": "item.description.type.invalid",
            "references": ["plain_text[7]"],
            "message": "The description must be in plain text",
        }
    ]


def test_unknown_routes_and_methods_answer_in_mercadolibre_s_shape(client: FlaskClient) -> None:
    missing = client.get("/no/such/resource")
    assert missing.status_code == 404
    assert missing.json == {"message": "resource not found", "error": "not_found", "status": 404, "cause": []}
    assert missing.headers["X-Sandbox"] == "intellipost-local"

    wrong_method = client.delete("/items")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json) == {"message", "error", "status", "cause"}
