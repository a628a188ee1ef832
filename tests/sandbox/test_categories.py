"""Categories, technical sheets and domain_discovery, served from the real trees."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient

DATA = Path(__file__).parents[2] / "infra" / "local" / "mercadolibre" / "data"


def test_an_mla_leaf_has_its_real_path_and_the_documented_default_settings(client: FlaskClient) -> None:
    phones = client.get("/categories/MLA1055").json

    assert phones["name"] == "Celulares y Smartphones"
    assert phones["path_from_root"] == [
        {"id": "MLA1051", "name": "Celulares y Teléfonos"},
        {"id": "MLA1055", "name": "Celulares y Smartphones"},
    ]
    assert phones["children_categories"] == []
    settings = phones["settings"]
    assert (settings["listing_allowed"], settings["max_title_length"]) == (True, 60)
    assert (settings["currencies"], settings["buying_modes"]) == (["ARS"], ["buy_it_now"])
    assert settings["item_conditions"] == ["new", "used"]


def test_a_parent_category_lists_its_children_and_forbids_listing(client: FlaskClient) -> None:
    phones_and_more = client.get("/categories/MLA1051").json

    assert phones_and_more["settings"]["listing_allowed"] is False
    assert {"id": "MLA1055", "name": "Celulares y Smartphones", "total_items_in_this_category": 0} in (
        phones_and_more["children_categories"]
    )


def test_mlb_categories_carry_their_real_settings(client: FlaskClient) -> None:
    phones = client.get("/categories/MLB1055").json

    assert phones["name"] == "Celulares e Smartphones"
    assert phones["settings"]["catalog_domain"] == "MLB-CELLPHONES"
    assert phones["settings"]["currencies"] == ["BRL"]
    assert phones["settings"]["minimum_price"] == 7
    assert phones["total_items_in_this_category"] > 0
    assert client.get("/categories/MLB6284").json["settings"]["max_title_length"] == 150  # perfumes


def test_mla1055_serves_its_real_technical_sheet(client: FlaskClient) -> None:
    sheet = client.get("/categories/MLA1055/attributes").json
    recorded = json.loads((DATA / "attributes" / "MLA1055_celulares_attributes_2019.json").read_text("utf-8"))

    assert sheet == recorded
    assert len(sheet) == 85
    brand = next(a for a in sheet if a["id"] == "BRAND")
    assert brand["tags"] == {"catalog_required": True}


def test_other_leaves_get_the_default_sheet_in_mercadolibre_s_shape(client: FlaskClient) -> None:
    sheet = {a["id"]: a for a in client.get("/categories/MLA3697/attributes").json}

    assert sheet["BRAND"]["tags"]["required"] and sheet["MODEL"]["tags"] == {"catalog_required": True}
    assert {a["value_type"] for a in sheet.values()} == {"string", "list", "boolean", "number", "number_unit"}
    assert sheet["NET_WEIGHT"]["default_unit"] in {
        unit["id"] for unit in sheet["NET_WEIGHT"]["allowed_units"]
    }
    assert all(value["id"] for value in sheet["MAIN_COLOR"]["values"])
    assert sheet["PACKAGE_WEIGHT"]["tags"] == {"hidden": True, "read_only": True}
    assert sheet["GTIN"]["tags"]["conditional_required"]


def test_unknown_categories_are_404_in_mercadolibre_s_shape(client: FlaskClient) -> None:
    for path in ("/categories/MLA999999999", "/categories/MLA999999999/attributes"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.json == {
            "message": "Category MLA999999999 not found",
            "error": "not_found",
            "status": 404,
            "cause": [],
        }


def test_domain_discovery_answers_like_the_documented_example(client: FlaskClient) -> None:
    documented = json.loads(
        (DATA / "examples" / "docs_MLA_domain_discovery_celular_iphone.json").read_text("utf-8")
    )

    answer = client.get(
        "/sites/MLA/domain_discovery/search", query_string={"q": "celular iphone", "limit": 1}
    )

    assert answer.status_code == 200
    assert answer.json == documented  # the iPhone's brand, line and model with MercadoLibre's value ids


def test_domain_discovery_lists_at_most_limit_predictions_and_checks_its_parameters(
    client: FlaskClient,
) -> None:
    search = "/sites/MLB/domain_discovery/search"
    for limit in range(1, 9):
        predictions = client.get(search, query_string={"q": "fone", "limit": limit}).json
        assert 1 <= len(predictions) <= limit
        assert all(p["category_id"].startswith("MLB") for p in predictions)
    assert client.get(search, query_string={"q": "fone", "limit": 9}).status_code == 400
    assert client.get(search).status_code == 400
    assert client.get("/sites/MCO/domain_discovery/search", query_string={"q": "celular"}).status_code == 404
