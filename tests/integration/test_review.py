"""The seller's review loop: the listing, edits by the generator's rules, versions, prompt and timeline."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalicelib.content import process_content_job
from chalicelib.images import process_images_job
from chalicelib.store.models import ProductRow as Product
from tests.selling import OATLY, keys, through_images


def listed(api: Any, sandbox: Any) -> tuple[Any, str]:
    seller, product_id, job = through_images(api, OATLY, "leche de avena marca oatly 1 litro")
    process_content_job(job)
    return seller, product_id


def test_the_listing_comes_with_its_confidence_and_technical_sheet(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    assert listing["version"] == 1 and listing["source"] == "generated" and listing["edited"] == []
    assert listing["confidence"]["band"] in {"green", "yellow", "red"}
    sheet = {a["id"]: a for a in listing["sheet"]}
    assert sheet["BRAND"]["required"] is True
    assert listing["provider"] == "local"


def test_edits_follow_the_rules_make_versions_and_lose_races_loudly(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    path = f"/products/{product_id}/listing"
    too_long = seller.call("PUT", path, {"version": 1, "title": "Leche " * 20})
    assert too_long.status_code == 422 and too_long.json["error"]["details"]["reason"] == "TITLE_TOO_LONG"
    shouting = seller.call("PUT", path, {"version": 1, "title": "LECHE DE AVENA OFERTA"})
    assert shouting.status_code == 422
    bad_value = seller.call(
        "PUT", path, {"version": 1, "attributes": [{"id": "NOT_IN_SHEET", "value_name": "x"}]}
    )
    assert bad_value.status_code == 422
    saved = seller.call(
        "PUT", path, {"version": 1, "title": "Leche de avena Oatly 1 L", "description": "Rica."}
    )
    assert saved.status_code == 200 and saved.json["version"] == 2 and saved.json["source"] == "seller"
    assert saved.json["edited"] == ["description", "title"]
    # Someone else (another tab) saves from version 1 too: 409 with the current version, no overwrite.
    late = seller.call("PUT", path, {"version": 1, "title": "Otro título"})
    assert late.status_code == 409 and late.json["error"]["details"]["current"]["version"] == 2
    history = seller.call("GET", f"{path}/versions").json["versions"]
    assert [(v["version"], v["current"]) for v in history] == [(2, True), (1, False)]
    restored = seller.call("POST", f"{path}/versions/1/restore")
    assert (
        restored.status_code == 200
        and restored.json["version"] == 3
        and restored.json["source"] == "restored"
    )
    assert seller.call("GET", f"/products/{product_id}").json["current_version"] == 3
    for missing in (99, 0):
        absent = seller.call("POST", f"{path}/versions/{missing}/restore")
        assert absent.status_code == 404 and absent.json["error"]["code"] == "VERSION_NOT_FOUND"


def test_a_prompt_change_reruns_the_pipeline_and_keeps_the_edited_title(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    seller.call(
        "PUT", f"/products/{product_id}/listing", {"version": 1, "title": "Mi leche de avena favorita"}
    )
    changed = seller.call(
        "PUT", f"/products/{product_id}/prompt", {"prompt": "leche de avena sin azúcar 1 litro"}
    )
    assert (
        changed.status_code == 200
        and changed.json["revision"] == 2
        and changed.json["status"] == "processing"
    )
    process_images_job(f"jobs/images/{product_id}/2.json")
    process_content_job(f"jobs/content/{product_id}/2.json")
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    assert listing["revision"] == 2 and listing["source"] == "generated"
    assert listing["title"] == "Mi leche de avena favorita" and "title" in listing["edited"]


def test_paused_products_wait_and_resume_with_one_run(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    assert seller.call("PUT", f"/products/{product_id}/pause").json["paused"] is True
    seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "leche de avena 1 litro barista"})
    seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "leche de avena barista 1 litro"})
    assert keys(f"jobs/images/{product_id}/") == [f"jobs/images/{product_id}/1.json"]
    resumed = seller.call("DELETE", f"/products/{product_id}/pause").json
    assert resumed["paused"] is False and resumed["revision"] == 3
    assert keys(f"jobs/images/{product_id}/") == [
        f"jobs/images/{product_id}/1.json",
        f"jobs/images/{product_id}/3.json",
    ]
    assert Product.get(seller.user_id, product_id).status == "processing"


def test_the_timeline_is_cheap_to_poll(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    first = seller.call("GET", f"/products/{product_id}/events")
    assert first.status_code == 200 and first.json["events"][-1]["code"] == "LISTING_READY"
    etag = first.headers["ETag"]
    again = seller.api.call(
        "GET",
        f"/products/{product_id}/events",
        token=seller.tokens["access_token"],
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304
    after = quote(first.json["events"][-2]["at"], safe="")  # times carry "+" and "#": encode them
    later = seller.call("GET", f"/products/{product_id}/events?after={after}")
    assert [e["code"] for e in later.json["events"]] == ["LISTING_READY"]


def test_a_field_handed_back_to_the_generator_is_written_again(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    generated = seller.call("GET", f"/products/{product_id}/listing").json["title"]
    seller.call("PUT", f"/products/{product_id}/listing", {"version": 1, "title": "Un título mío"})
    reset = seller.call("PUT", f"/products/{product_id}/listing", {"version": 2, "reset": ["title"]})
    assert reset.status_code == 200 and "title" not in reset.json["edited"]
    assert seller.call("GET", f"/products/{product_id}").json["revision"] == 2
    process_images_job(f"jobs/images/{product_id}/2.json")
    process_content_job(f"jobs/content/{product_id}/2.json")
    assert seller.call("GET", f"/products/{product_id}/listing").json["title"] == generated


def test_a_new_category_keeps_compatible_values_and_refills_its_sheet(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = listed(api, sandbox)
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    other = listing["category_alternatives"][0]["id"]
    moved = seller.call("PUT", f"/products/{product_id}/listing", {"version": 1, "category_id": other})
    assert moved.status_code == 200 and moved.json["category"]["id"] == other
    assert moved.json["edited"] == ["category"]
    assert {a["id"] for a in moved.json["attributes"]} <= {a["id"] for a in listing["attributes"]}
    assert seller.call("GET", f"/products/{product_id}").json["revision"] == 2  # the sheet is filled again
    process_images_job(f"jobs/images/{product_id}/2.json")
    process_content_job(f"jobs/content/{product_id}/2.json")
    refilled = seller.call("GET", f"/products/{product_id}/listing").json
    assert refilled["category"]["id"] == other and refilled["source"] == "generated"
    assert {"BRAND"} <= {a["id"] for a in refilled["attributes"]}
