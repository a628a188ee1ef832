"""Life after publishing, against the sandbox: the seller changes the price, pauses, reactivates and
closes the item; edits the title and the description; MercadoLibre's own changes (a review, a sale)
are read back when the product is opened and when MercadoLibre notifies them; deleting a listed
product asks what becomes of the item."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from chalicelib.content import process_content_job
from chalicelib.images import process_images_job
from chalicelib.marketplace import connection
from chalicelib.marketplace.mercadolibre import get_mercadolibre
from chalicelib.publish import process_publish_job
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sandbox.conftest import jpeg, listing_body
from tests.scripted_server import scripted_server
from tests.selling import approve, latest_job, ready_product
from tests.waiting import wait_for


def published(api: Any, sandbox: Any, **page: str) -> tuple[Any, str, str]:
    seller, product_id = ready_product(api, sandbox, **page)
    approve(seller, product_id)
    process_publish_job(latest_job(product_id))
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["status"] == "published", product["attention"]
    return seller, product_id, product["item"]["id"]


def change(seller: Any, product_id: str, **item: Any) -> dict[str, Any]:
    """The seller's change of the item, then the publish job it wrote; the product as it ends."""
    answer = seller.call("PUT", f"/products/{product_id}/item", item)
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "publishing"
    process_publish_job(latest_job(product_id))
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["status"] == "published", product["attention"]
    return product  # type: ignore[no-any-return]


def events(product: dict[str, Any]) -> list[dict[str, Any]]:
    return product["events"]  # type: ignore[no-any-return]


def test_publish_change_the_price_pause_reactivate_close(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    assert sandbox.item(item_id)["status"] == "active"

    product = change(seller, product_id, price=5200)
    assert sandbox.item(item_id)["price"] == 5200
    assert product["item"]["price"] == 5200 and product["item"]["status"] == "active"
    updated = events(product)[-1]
    assert (updated["code"], updated["params"]["changed"]) == ("ITEM_UPDATED", ["price"])
    assert any(e["code"] == "UPDATING_ITEM" and e["params"]["changes"] == ["price"] for e in events(product))
    process_publish_job(latest_job(product_id))  # a duplicate delivery changes nothing
    assert events(seller.call("GET", f"/products/{product_id}").json)[-1] == updated

    product = change(seller, product_id, status="paused")
    shown = sandbox.item(item_id)
    assert (shown["status"], shown["sub_status"]) == ("paused", ["paused_by_seller"])
    assert product["item"]["status"] == "paused" and product["item"]["sub_status"] == ["paused_by_seller"]

    product = change(seller, product_id, status="active")
    assert sandbox.item(item_id)["status"] == "active" and product["item"]["status"] == "active"
    assert sandbox.item(item_id)["price"] == 5200  # the earlier change stays

    product = change(seller, product_id, status="closed")
    assert sandbox.item(item_id)["status"] == "closed" and product["item"]["status"] == "closed"
    again = seller.call("PUT", f"/products/{product_id}/item", {"status": "active"})
    assert again.status_code == 409 and again.json["error"]["code"] == "ITEM_CLOSED"
    assert sandbox.items(seller, product_id) == [item_id]  # one item all along


def test_title_and_description_edits_go_to_the_item_and_a_sale_locks_the_title(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    edited = seller.call(
        "PUT",
        f"/products/{product_id}/listing",
        {
            "version": listing["version"],
            "title": "Leche De Avena Oatly Barista 1 L",
            "description": "Leche de avena.",
        },
    )
    assert edited.status_code == 200, edited.json
    process_publish_job(latest_job(product_id))
    item = sandbox.item(item_id)
    assert item["title"] == "Leche De Avena Oatly Barista 1 L"
    token = connection.credentials(seller.user_id).access_token
    description = requests.get(
        f"{sandbox.url}/items/{item_id}/description", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert description["plain_text"] == "Leche de avena."
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["item"]["title"] == "Leche De Avena Oatly Barista 1 L"
    assert events(product)[-1]["params"]["changed"] == ["title", "description"]

    # A buyer buys two: MercadoLibre keeps the title from now on, the rest still changes.
    requests.post(f"{sandbox.url}/_sandbox/items/{item_id}/sales", json={"quantity": 2}, timeout=10)
    listing = seller.call("GET", f"/products/{product_id}/listing").json
    seller.call(
        "PUT",
        f"/products/{product_id}/listing",
        {"version": listing["version"], "title": "Leche De Avena Oatly 1 Litro", "description": "Otra."},
    )
    process_publish_job(latest_job(product_id))
    last = events(seller.call("GET", f"/products/{product_id}").json)[-1]
    assert (last["params"]["changed"], last["params"]["kept"]) == (["description"], ["title"])
    assert sandbox.item(item_id)["title"] == "Leche De Avena Oatly Barista 1 L"
    # Stock after the sale: the seller's new quantity goes through, though it equals the one approved.
    product = change(seller, product_id, quantity=3)
    assert product["item"]["sold_quantity"] == 2
    owner = requests.get(
        f"{sandbox.url}/items/{item_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert owner.json()["available_quantity"] == 3

    locked = seller.call(
        "PUT", f"/products/{product_id}/listing", {"version": listing["version"] + 1, "condition": "used"}
    )
    assert locked.status_code == 409 and locked.json["error"]["code"] == "PUBLISHED_LISTING_LOCKED"
    assert locked.json["error"]["details"]["field"] == "condition"


def test_mercadolibre_s_review_is_read_back_when_the_product_is_opened(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    knob = f"{sandbox.url}/_sandbox/items/{item_id}/status"
    requests.post(knob, json={"status": "under_review", "sub_status": ["waiting_for_patch"]}, timeout=10)

    product = seller.call("GET", f"/products/{product_id}").json
    assert (product["item"]["status"], product["item"]["sub_status"]) == (
        "under_review",
        ["waiting_for_patch"],
    )
    said = [e for e in events(product) if e["code"] == "ITEM_STATUS_CHANGED"]
    assert [e["params"] for e in said] == [{"status": "under_review", "sub_status": ["waiting_for_patch"]}]
    refused = seller.call("PUT", f"/products/{product_id}/item", {"status": "active"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "ITEM_UNDER_REVIEW"
    seller.call("GET", f"/products/{product_id}")  # opened again, nothing new: nothing said again
    assert [e["code"] for e in events(seller.call("GET", f"/products/{product_id}").json)].count(
        "ITEM_STATUS_CHANGED"
    ) == 1


def notify(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.call("POST", "/ml/notifications", body)
    assert answer.status_code == 200, answer.json  # always acknowledged, as MercadoLibre asks
    return answer.json  # type: ignore[no-any-return]


def test_a_notification_is_checked_then_the_item_is_read_back(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    with notifications_from(sandbox) as received:
        requests.post(f"{sandbox.url}/_sandbox/items/{item_id}/status", json={"status": "paused"}, timeout=10)
        sent = wait_for(lambda: received(item_id), 30, "the sandbox's notification")
    assert sent["user_id"] == connection.credentials(seller.user_id).ml_user_id

    for wrong, reason in (
        ({"application_id": 999}, "NOT_OUR_APPLICATION"),
        ({"topic": "questions"}, "NOT_THE_ITEMS_TOPIC"),
        ({"resource": "/orders/123"}, "NOT_AN_ITEM"),
        ({"user_id": 123456789}, "NOT_OUR_SELLER"),
        ({"resource": "/items/MLA9999999999"}, "NOT_AN_ITEM"),
    ):
        assert notify(api, {**sent, **wrong}) == {"outcome": "ignored", "reason": reason}
    assert seller.call("GET", f"/products/{product_id}/events").json["status"] == "published"

    assert notify(api, sent) == {"outcome": "refreshed", "reason": None}
    assert events(seller.call("GET", f"/products/{product_id}").json)[-1]["code"] == "ITEM_STATUS_CHANGED"
    assert seller.call("GET", f"/products/{product_id}").json["item"]["status"] == "paused"

    # Another seller's item (the same SKU even), named with this seller's user id: not theirs.
    assert notify(api, {**sent, "resource": f"/items/{someone_elses_item(sandbox, product_id)}"})[
        "reason"
    ] == ("NOT_OUR_ITEM")


def someone_elses_item(sandbox: Any, sku: str) -> str:
    """An item another MercadoLibre seller listed, straight on the sandbox."""
    client = get_mercadolibre()
    back = sandbox.sign_in(client.authorization_url("MLA", "any"), "SOMEONE_ELSE")
    token = client.exchange_code(back["code"]).access_token
    picture = client.upload_picture(token, jpeg())
    item = client.create_item(
        token,
        listing_body(
            picture["id"],
            attributes=[{"id": "BRAND", "value_name": "Oatly"}, {"id": "SELLER_SKU", "value_name": sku}],
        ),
    )
    return str(item["id"])


@contextmanager
def notifications_from(sandbox: Any) -> Iterator[Callable[[str], dict[str, Any] | None]]:
    """The sandbox app's notifications sent to a loopback receiver while inside; a function that
    gives the latest one about an item, if any came."""
    app = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    with scripted_server() as receiver:
        for _ in range(50):
            receiver.answer(200, "{}")
        url = f"{receiver.url}/api/v1/ml/notifications"
        requests.post(f"{sandbox.url}/_sandbox/apps", json={**app, "notifications_url": url}, timeout=10)

        def received(item_id: str) -> dict[str, Any] | None:
            about = [json.loads(seen.body) for seen in list(receiver.seen)]
            return next((n for n in reversed(about) if n["resource"] == f"/items/{item_id}"), None)

        try:
            yield received
        finally:
            requests.post(f"{sandbox.url}/_sandbox/apps", json=app, timeout=10)


def test_deleting_a_listed_product_asks_whether_to_close_the_item(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    asked = seller.call("DELETE", f"/products/{product_id}")
    assert asked.status_code == 409 and asked.json["error"]["code"] == "ITEM_STILL_LISTED"
    assert asked.json["error"]["details"]["item_id"] == item_id
    assert seller.call("GET", f"/products/{product_id}").status_code == 200  # nothing deleted yet

    assert seller.call("DELETE", f"/products/{product_id}?item=close").status_code == 204
    assert sandbox.item(item_id)["status"] == "closed"
    assert seller.call("GET", f"/products/{product_id}").status_code == 404

    kept_seller, kept_product, kept_item = published(api, sandbox)
    assert kept_seller.call("DELETE", f"/products/{kept_product}?item=keep").status_code == 204
    assert sandbox.item(kept_item)["status"] == "active"


def test_a_new_main_photo_reaches_the_item_once_the_pipeline_made_it(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller, product_id, item_id = published(api, sandbox)
    before = sandbox.item(item_id)["pictures"]
    product = seller.call("GET", f"/products/{product_id}").json
    other = next(image for image in product["images"] if not image["is_main"])
    chosen = seller.call("PUT", f"/products/{product_id}/main-image", {"image_id": other["image_id"]})
    assert chosen.status_code == 200 and chosen.json["item"]["id"] == item_id  # the item stays meanwhile

    process_images_job(f"jobs/images/{product_id}/2.json")
    process_content_job(f"jobs/content/{product_id}/2.json")
    assert seller.call("GET", f"/products/{product_id}/events").json["status"] == "publishing"
    process_publish_job(latest_job(product_id))
    product = seller.call("GET", f"/products/{product_id}").json
    assert product["status"] == "published" and product["item"]["id"] == item_id
    assert "pictures" in events(product)[-1]["params"]["changed"]
    after = sandbox.item(item_id)["pictures"]
    assert [p["id"] for p in after] != [p["id"] for p in before]
    assert sandbox.items(seller, product_id) == [item_id]
