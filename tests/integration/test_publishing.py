"""Approve and publish against the sandbox: one item per approval, even when a run stops half-way."""

from __future__ import annotations

import requests

from chalicelib.content import process_content_job
from chalicelib.marketplace import connection
from chalicelib.publish import process_publish_job
from chalicelib.store.models import ProductRow as Product
from tests.selling import OATLY, approve, connect, keys, latest_job, ready_product, through_images


def test_approving_publishes_the_item_with_picture_and_description(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approved = approve(seller, product_id)
    assert approved.status_code == 200 and approved.json["status"] == "publishing"
    stored = Product.get(seller.user_id, product_id)
    assert stored.approval["by"] == seller.user_id and stored.approval["version"] == stored.current_version
    [job] = keys(f"jobs/publish/{product_id}/")
    process_publish_job(job)
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["status"] == "published"
    item_id = product["item"]["id"]
    assert item_id.startswith("MLA") and "mercadolibre.com.ar" in product["item"]["permalink"]
    token = connection.credentials(seller.user_id).access_token
    item = requests.get(
        f"{sandbox.url}/items/{item_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert item.json()["pictures"]
    assert [a["value_name"] for a in item.json()["attributes"] if a["id"] == "SELLER_SKU"] == [product_id]
    description = requests.get(
        f"{sandbox.url}/items/{item_id}/description", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert description["plain_text"]
    # Published: a new prompt would write another listing; the item stays as published, and says so.
    refused = seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "otra"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "PUBLISHED_LISTING_LOCKED"
    assert refused.json["error"]["details"]["field"] == "prompt"
    process_publish_job(job)  # a duplicate delivery changes nothing
    assert sandbox.items(seller, product_id) == [item_id]


def test_a_run_that_stops_after_creating_the_item_is_finished_not_repeated(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    # MercadoLibre fails every description call: the run stops right after the item exists.
    sandbox.faults({"path": "/items/MLA*", "status": 500})
    try:
        process_publish_job(job)
    finally:
        sandbox.faults()
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "MERCADOLIBRE_UNAVAILABLE"
    [created] = sandbox.items(seller, product_id)
    process_publish_job(job)  # redelivered
    published = Product.get(seller.user_id, product_id)
    assert published.status == "published" and published.item["id"] == created
    assert sandbox.items(seller, product_id) == [created]
    codes = [e["code"] for e in seller.call("GET", f"/products/{product_id}").json["events"]]
    assert codes.count("PUBLISHED") == 1 and "ITEM_UPDATED" not in codes  # its first publication, finished


def test_publishing_needs_a_connected_account_and_the_sites_currency(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, job = through_images(api, OATLY, "leche de avena 1 litro")
    process_content_job(job)
    refused = approve(seller, product_id)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "MERCADOLIBRE_NOT_CONNECTED"
    connect(api, sandbox, seller, f"CUR{product_id[-6:]}")
    wrong = approve(seller, product_id, currency="USD")
    assert wrong.status_code == 422 and wrong.json["error"]["details"]["expected"] == "ARS"
    assert approve(seller, product_id, price=0).status_code == 422


def test_a_validation_error_names_the_field(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    emptied = seller.call(
        "PUT",
        f"/products/{product_id}/listing",
        {
            "version": listing["version"],
            "attributes": [{"id": "BRAND", "value_name": None}],
        },
    )
    assert emptied.status_code == 200 and "BRAND" in emptied.json["missing_required"]
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    process_publish_job(job)
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "MERCADOLIBRE_VALIDATION"
    assert any(
        "item.attributes" in field
        for cause in failed.attention["params"]["causes"]
        for field in cause["fields"]
    )
    # The retry action: approve again once fixed.
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    seller.call(
        "PUT",
        f"/products/{product_id}/listing",
        {
            "version": listing["version"],
            "attributes": [{"id": "BRAND", "value_name": "Oatly"}],
        },
    )
    assert approve(seller, product_id).json["status"] == "publishing"
    retry = [k for k in keys(f"jobs/publish/{product_id}/") if k.endswith("-2.json")]
    assert retry
    process_publish_job(retry[0])
    assert Product.get(seller.user_id, product_id).status == "published"


def test_a_429_storm_slows_publishing_down_but_lists_once(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    sandbox.faults(
        *(
            {"path": f"{prefix}*", "status": 429, "share": 0.5}
            for prefix in ("/items", "/pictures", "/users")
        ),
        seed=3,
    )
    try:
        process_publish_job(job)
    finally:
        sandbox.faults()
    assert Product.get(seller.user_id, product_id).status == "published"
    assert len(sandbox.items(seller, product_id)) == 1


def test_a_token_expired_mid_publish_is_refreshed_and_publishing_goes_on(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    before = connection.credentials(seller.user_id).access_token
    requests.post(f"{sandbox.url}/_sandbox/expire-tokens", timeout=10)  # MercadoLibre ends it early
    process_publish_job(job)
    assert Product.get(seller.user_id, product_id).status == "published"
    assert connection.credentials(seller.user_id).access_token != before


def test_500s_while_creating_the_item_fail_clearly_and_a_retry_lists_once(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    sandbox.faults({"path": "/items*", "status": 500})
    try:
        process_publish_job(job)
    finally:
        sandbox.faults()
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "MERCADOLIBRE_UNAVAILABLE"
    assert failed.attention["params"]["retry"] is True
    retried = approve(seller, product_id)
    assert retried.json["status"] == "publishing"
    process_publish_job(next(k for k in keys(f"jobs/publish/{product_id}/") if k.endswith("-2.json")))
    assert Product.get(seller.user_id, product_id).status == "published"
    assert len(sandbox.items(seller, product_id)) == 1


# -- MercadoLibre as it really is (issue 17) --------------------------------------------------------


def test_the_item_carries_the_product_as_its_seller_sku_attribute(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    process_publish_job(job)
    item = sandbox.item(Product.get(seller.user_id, product_id).item["id"])
    # The publishing guide counts only the SELLER_SKU attribute; seller_custom_field is the seller's own.
    assert [a["value_name"] for a in item["attributes"] if a["id"] == "SELLER_SKU"] == [product_id]
    assert item["seller_custom_field"] is None


def test_a_connection_dropped_after_the_item_was_created_lists_it_once(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    """MercadoLibre creates the item and the answer never arrives: the outcome is unknown, so the
    publisher looks the SKU up before any new attempt, finds the item and finishes it."""
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    sandbox.faults({"method": "POST", "path": "/items", "drop": "after", "times": 1})
    try:
        process_publish_job(job)
    finally:
        sandbox.faults()
    published = Product.get(seller.user_id, product_id)
    assert published.status == "published"
    assert sandbox.items(seller, product_id) == [published.item["id"]]
    codes = [e["code"] for e in seller.call("GET", f"/products/{product_id}").json["events"]]
    assert "OUTCOME_UNKNOWN" in codes and codes.count("PUBLISHED") == 1


def test_a_user_products_seller_is_published_with_a_family_name_and_no_title(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox, kind="user_products")
    assert seller.call("GET", "/ml/account").json["user_products"] is True
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    process_publish_job(job)
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["status"] == "published", product["attention"]
    item = sandbox.item(product["item"]["id"])
    assert item["family_name"] == listing["title"] and "user_product_listing" in item["tags"]
    # What the panel shows is what MercadoLibre displays: the title it wrote.
    assert product["item"]["title"] == item["title"] and product["item"]["family_name"] == listing["title"]


def test_a_seller_whose_account_data_is_missing_is_told_which_and_where(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox, data_pending="1")
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    process_publish_job(job)
    attention = seller.call("GET", f"/products/{product_id}").json["attention"]
    assert attention["code"] == "MERCADOLIBRE_ACCOUNT_INCOMPLETE"
    assert attention["params"]["missing"] == ["address_pending", "phone_pending"]
    assert attention["params"]["account_url"] == "https://myaccount.mercadolibre.com.ar/profile"
    assert attention["params"]["retry"] is True
    assert seller.call("GET", "/ml/account").json["status"] == "connected"  # nothing to reconnect


# Each documented error shape MercadoLibre may answer, and what the seller is told to do.
ERROR_SHAPES = [
    (
        403,
        {
            "status": 403,
            "error": "access_denied",
            "message": "access to the requested resource is forbidden",
            "code": "FORBIDDEN",
        },
        "MERCADOLIBRE_FORBIDDEN",
        False,
    ),
    (403, {"status": 403, "error": "Invalid scopes", "code": "FORBIDDEN"}, "MERCADOLIBRE_FORBIDDEN", False),
    (
        400,
        {"message": "body.invalid", "error": "bad_request", "status": 400, "cause": []},
        "PUBLISH_DEFECT",
        False,
    ),
    (429, None, "MERCADOLIBRE_UNAVAILABLE", True),
    (503, None, "MERCADOLIBRE_UNAVAILABLE", True),
    (
        404,
        {"message": "not here", "error": "not_found", "status": 404, "cause": []},
        "MERCADOLIBRE_REJECTED",
        False,
    ),
    # The gateway's shape, refused even after a fresh token: a token problem, the only reconnect.
    (401, {"code": "unauthorized", "message": "invalid access token"}, "MERCADOLIBRE_RECONNECT", True),
]


def test_each_error_shape_tells_the_seller_what_to_do(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    for status, body, code, retry in ERROR_SHAPES:
        approve(seller, product_id)  # the seller trying again after each failure
        job = latest_job(product_id)
        sandbox.faults({"method": "POST", "path": "/items/validate", "status": status, "body": body})
        try:
            process_publish_job(job)
        finally:
            sandbox.faults()
        attention = seller.call("GET", f"/products/{product_id}").json["attention"]
        assert (attention["code"], attention["params"]["retry"]) == (code, retry), (status, attention)
        assert attention["params"]["status"] == status
        assert attention["params"]["mercadolibre_request_id"]  # kept for whoever looks into it
        connected = seller.call("GET", "/ml/account").json["status"]
        assert connected == ("disconnected" if code == "MERCADOLIBRE_RECONNECT" else "connected")
        if connected == "connected":
            assert sandbox.items(seller, product_id) == []  # validation stopped each before the item
