"""No product is left in a state it cannot leave: the watchdog fails what stopped moving, and an
event the steps gave up on fails its product with a retry (the chaos suite drives the latter through
the event runtime, at every step)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib import failures
from chalicelib.store.models import ProductRow
from tests.photos import grocery_photo
from tests.selling import declared

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _age(seller: Any, product_id: str) -> None:
    """The product last changed long ago (its row, as a crash between two writes would leave it)."""
    row = ProductRow.get(seller.user_id, product_id)
    row.update(actions=[ProductRow.updated_at.set(LONG_AGO)])


def test_photos_that_never_arrive_fail_the_product_asking_for_them_again(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call(
        "POST", "/products", {"prompt": "yerba", "images": declared([grocery_photo()])}
    ).json
    fresh = seller.call("POST", "/products", {"prompt": "mate", "images": declared([grocery_photo()])}).json
    _age(seller, product["product_id"])
    assert failures.fail_stuck() >= 1
    stuck = seller.call("GET", f"/products/{product['product_id']}").json
    assert stuck["status"] == "failed" and stuck["attention"]["code"] == "PHOTOS_NEVER_ARRIVED"
    assert stuck["attention"]["params"]["retry"] is False
    assert stuck["images"][0]["rejection"]["code"] == "IMAGE_NEVER_ARRIVED"
    # A product still within its deadline is left alone.
    assert seller.call("GET", f"/products/{fresh['product_id']}").json["status"] == "uploading"


def test_a_step_that_stopped_fails_with_a_retry(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call(
        "POST", "/products", {"prompt": "yerba", "images": declared([grocery_photo()])}
    ).json
    row = ProductRow.get(seller.user_id, product["product_id"])
    row.update(actions=[ProductRow.status.set("processing"), ProductRow.working.set("processing")])
    _age(seller, product["product_id"])
    failures.fail_stuck()
    stopped = seller.call("GET", f"/products/{product['product_id']}").json
    assert stopped["status"] == "failed" and stopped["attention"]["code"] == "STEP_TIMED_OUT"
    assert stopped["attention"]["params"] == {"stage": "images", "retry": True}
    assert "STEP_TIMED_OUT" in [event["code"] for event in stopped["events"]]
    # Done once: a second round finds nothing more to fail there.
    failures.fail_stuck()
    assert [e["code"] for e in seller.call("GET", f"/products/{product['product_id']}").json["events"]].count(
        "STEP_TIMED_OUT"
    ) == 1


def test_a_paused_product_waits_for_its_seller(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call(
        "POST", "/products", {"prompt": "yerba", "images": declared([grocery_photo()])}
    ).json
    assert seller.call("PUT", f"/products/{product['product_id']}/pause").status_code == 200
    _age(seller, product["product_id"])
    failures.fail_stuck()
    assert seller.call("GET", f"/products/{product['product_id']}").json["status"] == "uploading"


def test_a_given_up_job_of_an_older_revision_changes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product = seller.call(
        "POST", "/products", {"prompt": "yerba", "images": declared([grocery_photo()])}
    ).json
    failures.step_gave_up(f"jobs/images/{product['product_id']}/1.json", "RuntimeError: gone")  # no such job
    assert seller.call("GET", f"/products/{product['product_id']}").json["status"] == "uploading"
