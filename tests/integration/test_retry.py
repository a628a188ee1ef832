"""The seller's retry (POST /products/{id}/retry): the step that failed runs again at the same revision,
once, and nothing is made twice; a late copy of a failed step's job changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.content import process_content_job
from chalicelib.images import process_images_job
from chalicelib.providers.background import BackgroundRemovalFailed
from chalicelib.publish import process_publish_job
from chalicelib.store.models import ListingVersionRow as ListingVersion
from chalicelib.store.models import ProductRow as Product
from tests.selling import OATLY, approve, ingested, keys, ready_product, through_images


@contextmanager
def gemini_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Gemini (the production writer) answering 503 to every call, retried briefly by its adapter."""
    from tests.scripted_server import scripted_server

    with scripted_server() as gemini, monkeypatch.context() as patch:
        for _ in range(20):
            gemini.answer(503, '{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}')
        patch.setenv("GEMINI_API_KEY", "test-key-123")
        patch.setenv("GEMINI_BASE_URL", gemini.url)
        patch.setenv("GEMINI_RETRY_ATTEMPTS", "2")
        patch.setenv("GEMINI_RETRY_INITIAL_DELAY", "0.01")
        patch.setenv("GEMINI_RETRY_MAX_DELAY", "0.02")
        yield


def codes(seller: Any, product_id: str) -> list[str]:
    return [e["code"] for e in seller.call("GET", f"/products/{product_id}").json["events"]]


def generated(product_id: str) -> list[int]:
    return [int(v.revision) for v in ListingVersion.query(product_id) if v.source == "generated"]


def retry(seller: Any, product_id: str) -> Any:
    return seller.call("POST", f"/products/{product_id}/retry")


def content_failed(api: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str, str]:
    seller, product_id, job = through_images(api, OATLY)
    with gemini_down(monkeypatch):
        process_content_job(job)
    failed = Product.get(seller.user_id, product_id)
    assert failed.status == "failed" and failed.attention["code"] == "GEMINI_UNAVAILABLE"
    return seller, product_id, job


def test_only_a_failed_product_of_ones_own_can_be_retried(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    refused = retry(seller, product_id)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "NOT_FAILED" and refused.json["error"]["details"] == {
        "status": "ready"
    }
    assert retry(api.seller(), product_id).status_code == 404  # someone else's: as if it did not exist


def test_a_failed_listing_is_written_again_once(api, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, job = content_failed(api, monkeypatch)
    retried = retry(seller, product_id)
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "processing" and retried.json["attention"] is None
    assert retried.json["events"][-1]["code"] == "RETRYING"
    assert retried.json["events"][-1]["params"] == {"stage": "content"}
    # Its own job, so it fires although the first one is still there; a second retry is refused.
    assert keys(f"jobs/content/{product_id}/") == [
        f"jobs/content/{product_id}/1-2.json",
        f"jobs/content/{product_id}/1.json",
    ]
    assert retry(seller, product_id).json["error"]["code"] == "NOT_FAILED"
    process_content_job(f"jobs/content/{product_id}/1-2.json")  # the local writer answers now
    process_content_job(job)  # the first job, redelivered late
    ready = Product.get(seller.user_id, product_id)
    assert ready.status == "ready" and ready.revision == 1 and generated(product_id) == [1]
    assert codes(seller, product_id).count("LISTING_READY") == 1


def test_a_late_copy_of_a_failed_listing_job_is_dropped(api, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """failed -> ready and failed -> failed are not moves: a redelivered job leaves it to the retry."""
    seller, product_id, job = content_failed(api, monkeypatch)
    process_content_job(job)  # the writer answers this time: still no failed -> ready
    with gemini_down(monkeypatch):
        process_content_job(job)  # fails again: still no failed -> failed, one failure on the timeline
    stored = Product.get(seller.user_id, product_id)
    assert stored.status == "failed" and stored.attention["code"] == "GEMINI_UNAVAILABLE"
    assert generated(product_id) == [] and codes(seller, product_id).count("GEMINI_UNAVAILABLE") == 1
    assert retry(seller, product_id).status_code == 200


class Broken:
    name = "broken"

    def cutout(self, photo: Any) -> Any:
        raise BackgroundRemovalFailed("PHOTOROOM_UNAVAILABLE", "PhotoRoom is not answering right now.")


def test_failed_photos_are_processed_again_once(api, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seller, product, job = ingested(api, OATLY[:1], "leche de avena")
    product_id = product["product_id"]
    with monkeypatch.context() as patch:
        patch.setattr("chalicelib.images.background_remover", lambda remaining_ms=None: Broken())
        process_images_job(job)
        process_images_job(job)  # redelivered: the first reason stands, no failed -> failed
    assert Product.get(seller.user_id, product_id).status == "failed"
    assert keys(f"jobs/content/{product_id}/") == []
    retried = retry(seller, product_id)
    assert retried.status_code == 200 and retried.json["events"][-1]["params"] == {"stage": "images"}
    assert keys(f"jobs/images/{product_id}/") == [
        f"jobs/images/{product_id}/1-2.json",
        f"jobs/images/{product_id}/1.json",
    ]
    process_images_job(f"jobs/images/{product_id}/1-2.json")
    process_images_job(job)  # the first job, late: rewrites the same objects, no second content job
    assert keys(f"jobs/content/{product_id}/") == [f"jobs/content/{product_id}/1.json"]
    process_content_job(f"jobs/content/{product_id}/1.json")
    assert Product.get(seller.user_id, product_id).status == "ready" and generated(product_id) == [1]


def test_a_failed_publication_is_approved_again_and_lists_one_item(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id, price=3999, quantity=7)
    [first] = keys(f"jobs/publish/{product_id}/")
    # The item is created, then every description call fails: failed with the item already there.
    sandbox.faults({"path": "/items/MLA*", "status": 500})
    try:
        process_publish_job(first)
    finally:
        sandbox.faults()
    assert Product.get(seller.user_id, product_id).attention["code"] == "MERCADOLIBRE_UNAVAILABLE"
    [created] = sandbox.items(seller, product_id)
    retried = retry(seller, product_id)
    assert retried.status_code == 200 and retried.json["status"] == "publishing"
    assert retried.json["events"][-1]["params"] == {"stage": "publish"}
    stored = Product.get(seller.user_id, product_id)
    assert stored.approval["price"] == 3999 and stored.approval["quantity"] == 7  # the seller's terms
    [again] = [key for key in keys(f"jobs/publish/{product_id}/") if key.endswith("-2.json")]
    process_publish_job(first)  # a late copy of the first attempt: the retry's approval took over
    assert Product.get(seller.user_id, product_id).status == "publishing"
    process_publish_job(again)
    published = Product.get(seller.user_id, product_id)
    assert published.status == "published" and published.item["id"] == created
    assert sandbox.items(seller, product_id) == [created]


def test_a_newer_revisions_failed_listing_is_written_again_not_the_old_one_published(
    api: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing version 1 failed, the seller edited the prompt, revision 2's listing failed: the
    retry writes revision 2's listing; the old approval does not make it publish version 1."""
    seller, product_id = ready_product(api, sandbox)
    approve(seller, product_id)
    [job] = keys(f"jobs/publish/{product_id}/")
    sandbox.faults({"path": "/items*", "status": 500})
    try:
        process_publish_job(job)
    finally:
        sandbox.faults()
    assert (
        seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "leche de avena oatly"}).status_code
        == 200
    )
    process_images_job(f"jobs/images/{product_id}/2.json")
    with gemini_down(monkeypatch):
        process_content_job(f"jobs/content/{product_id}/2.json")
    assert Product.get(seller.user_id, product_id).status == "failed"
    assert retry(seller, product_id).json["events"][-1]["params"] == {"stage": "content"}
    process_content_job(f"jobs/content/{product_id}/2-2.json")
    ready = Product.get(seller.user_id, product_id)
    assert ready.status == "ready" and generated(product_id) == [1, 2] and ready.item is None
    assert sandbox.items(seller, product_id) == []
