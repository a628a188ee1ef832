"""Approve and publish against the sandbox: one item per approval, even when a run stops half-way."""

from __future__ import annotations

import os
from typing import Any

import requests

from chalicelib.content import process_content_job
from chalicelib.marketplace import connection
from chalicelib.publish import process_publish_job
from chalicelib.store.models import ProductRow as Product
from tests.integration.test_content import OATLY, through_images
from tests.integration.test_images_step import keys
from tests.integration.test_marketplace_accounts import connect

BUCKET = os.environ["MEDIA_BUCKET"]


def ready_product(api: Any, sandbox: Any) -> tuple[Any, str]:
    seller, product_id, job = through_images(api, OATLY, "leche de avena oatly 1 litro")
    process_content_job(job)
    connect(api, sandbox, seller, f"SELLER{product_id[-6:]}")
    return seller, product_id


def approve(seller: Any, product_id: str, **overrides: Any) -> Any:
    return seller.call("POST", f"/products/{product_id}/publish", {"price": 4500, "quantity": 3, **overrides})


def sandbox_items(sandbox: Any, seller: Any, sku: str) -> list[str]:
    credentials = connection.credentials(seller.user_id)
    answer = requests.get(
        f"{sandbox.url}/users/{credentials.ml_user_id}/items/search",
        params={"seller_sku": sku},
        headers={"Authorization": f"Bearer {credentials.access_token}"},
        timeout=10,
    )
    return answer.json()["results"]  # type: ignore[no-any-return]


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
    assert item.json()["seller_custom_field"] == product_id and item.json()["pictures"]
    description = requests.get(
        f"{sandbox.url}/items/{item_id}/description", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert description["plain_text"]
    # Published: edits are out of scope for now, and say so.
    assert seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "otra"}).json["error"]["code"] == (
        "PUBLISHED_EDITS_UNSUPPORTED"
    )
    process_publish_job(job)  # a duplicate delivery changes nothing
    assert sandbox_items(sandbox, seller, product_id) == [item_id]


def test_a_run_that_stops_after_creating_the_item_is_finished_not_repeated(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    # MercadoLibre fails every description call: the run stops right after the item exists.
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"status_500_share": 1.0, "paths": ["/items/MLA"], "seed": 1},
        timeout=10,
    )
    try:
        process_publish_job(job)
    finally:
        requests.post(f"{sandbox.url}/_sandbox/faults", json={}, timeout=10)
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "MERCADOLIBRE_UNAVAILABLE"
    [created] = sandbox_items(sandbox, seller, product_id)
    process_publish_job(job)  # redelivered
    published = Product.get(seller.user_id, product_id)
    assert published.status == "published" and published.item["id"] == created
    assert sandbox_items(sandbox, seller, product_id) == [created]


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


def _faults(sandbox: Any, **knobs: Any) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults", json=knobs, timeout=10)


def test_a_429_storm_slows_publishing_down_but_lists_once(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    _faults(sandbox, status_429_share=0.5, seed=3, paths=["/items", "/pictures", "/users"])
    try:
        process_publish_job(job)
    finally:
        _faults(sandbox)
    assert Product.get(seller.user_id, product_id).status == "published"
    assert len(sandbox_items(sandbox, seller, product_id)) == 1


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
    _faults(sandbox, status_500_share=1.0, seed=1, paths=["/items"])
    try:
        process_publish_job(job)
    finally:
        _faults(sandbox)
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "MERCADOLIBRE_UNAVAILABLE"
    assert failed.attention["params"]["retry"] is True
    retried = approve(seller, product_id)
    assert retried.json["status"] == "publishing"
    process_publish_job(next(k for k in keys(f"jobs/publish/{product_id}/") if k.endswith("-2.json")))
    assert Product.get(seller.user_id, product_id).status == "published"
    assert len(sandbox_items(sandbox, seller, product_id)) == 1
