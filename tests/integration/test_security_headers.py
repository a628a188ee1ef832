"""Every route answers with the security headers, errors included; the events poll still revalidates.

The walk is generated from the route table, so a new route is checked without anyone remembering to.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api.http import SECURITY_HEADERS
from functions.api import route
from tests.selling import SAMPLE_BODIES

MISSING = "01MISSINGPRODUCT0000000000"


def _assert_secure(response: Any, where: str) -> None:
    headers = {name.lower(): value for name, value in response.headers.items()}
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, (where, response.status_code, name, headers)
    expected = "private, no-cache" if "etag" in headers else "no-store"
    assert headers.get("cache-control") == expected, (where, response.status_code, headers)
    assert headers.get("x-request-id"), where


def _call(api: Any, r: Any, product_id: str, image_id: str, token: str | None, body: Any = None) -> Any:
    path = r.path.replace("{product_id}", product_id).replace("{image_id}", image_id)
    if body is None and r.body is not None:
        sample = SAMPLE_BODIES.get(r.body.__name__, {})
        body = {
            k: ([image_id] if v == ["IMAGE"] else image_id if v == "IMAGE" else v) for k, v in sample.items()
        }
    return api.call(r.method, path.replace("{version}", "1"), body, token=token)


def test_every_route_answers_with_the_security_headers(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    token = seller.tokens["access_token"]
    product = seller.call("POST", "/products", SAMPLE_BODIES["NewProduct"]).json
    product_id, image_id = product["product_id"], product["images"][0]["image_id"]
    statuses: set[int] = set()
    for r in route.routes:
        where = f"{r.method} {r.path}"
        # No token (401 on the protected ones), a missing product (404), a body that breaks its rules (422).
        answers = [_call(api, r, product_id, image_id, None), _call(api, r, MISSING, image_id, token)]
        if r.body is not None:
            answers.append(_call(api, r, MISSING, image_id, token, {"unexpected": 1}))
        for response in answers:
            _assert_secure(response, where)
            statuses.add(response.status_code)
    assert {200, 401, 404, 422} <= statuses, statuses


def test_the_events_poll_keeps_its_etag_and_304(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    product_id = seller.call("POST", "/products", SAMPLE_BODIES["NewProduct"]).json["product_id"]
    first = seller.call("GET", f"/products/{product_id}/events")
    assert first.status_code == 200 and first.headers["ETag"]
    _assert_secure(first, "events")
    assert first.headers["Cache-Control"] == "private, no-cache"  # stored by the browser, always asked
    again = api.call(
        "GET",
        f"/products/{product_id}/events",
        token=seller.tokens["access_token"],
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    _assert_secure(again, "events 304")
    # Everything else a seller reads stays out of every cache.
    assert seller.call("GET", f"/products/{product_id}").headers["Cache-Control"] == "no-store"
    assert api.call("GET", "/health").headers["Cache-Control"] == "no-store"
