"""Every route, walked with no token, bad tokens and another seller's token.

The matrix is generated from the route table, so a new route cannot be forgotten.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt
import pytest

from chalicelib.auth import tokens
from chalicelib.config import secret
from functions.api import route
from tests.selling import SAMPLE_BODIES

PROTECTED = [r for r in route.routes if r.auth]


def _forged_tokens(user_id: str) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "sid": "s",
        "iat": now,
        "exp": now + 600,
        "iss": "intellipost",
        "aud": "intellipost-api",
        "typ": "access",
    }
    good = tokens.issue_access_token(user_id, "s")
    header, payload, signature = good.split(".")
    return {
        "expired": jwt.encode(
            {**claims, "iat": now - 3600, "exp": now - 1800}, secret("JWT_SECRET"), algorithm="HS256"
        ),
        "wrong key": jwt.encode(claims, "another secret that is long enough....", algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "tampered": f"{header}.{payload[:-2]}AA.{signature}",
        "refresh-shaped": "abcdefghijklmnop.abcdefghijklmnopqrstuvwxyz",
        "garbage": "Bearer-not-a-jwt",
    }


def _request(api: Any, r: Any, product_id: str, image_id: str, token: str | None) -> Any:
    path = (
        r.path.replace("{product_id}", product_id).replace("{image_id}", image_id).replace("{version}", "1")
    )
    body = None
    if r.body is not None:
        body = SAMPLE_BODIES[r.body.__name__]
        body = {
            k: ([image_id] if v == ["IMAGE"] else image_id if v == "IMAGE" else v) for k, v in body.items()
        }
    return api.call(r.method, path, body, token=token)


@pytest.fixture
def alice_product(api) -> tuple[Any, str, str]:  # type: ignore[no-untyped-def]
    alice = api.seller()
    product = alice.call("POST", "/products", SAMPLE_BODIES["NewProduct"]).json
    return alice, product["product_id"], product["images"][0]["image_id"]


def test_every_protected_route_refuses_missing_and_bad_tokens(api, alice_product) -> None:  # type: ignore[no-untyped-def]
    alice, product_id, image_id = alice_product
    assert len(PROTECTED) >= 10
    for r in PROTECTED:
        for name, token in [("none", None), *_forged_tokens(alice.user_id).items()]:
            response = _request(api, r, product_id, image_id, token)
            assert response.status_code == 401, (r.method, r.path, name, response.json)
            assert response.json["error"]["code"] == "UNAUTHORIZED"


def test_another_sellers_products_answer_like_missing_ones(api, alice_product) -> None:  # type: ignore[no-untyped-def]
    alice, product_id, image_id = alice_product
    bob = api.seller()
    scoped = [r for r in PROTECTED if "{product_id}" in r.path]
    assert scoped
    for r in scoped:
        as_bob = _request(api, r, product_id, image_id, bob.tokens["access_token"])
        missing = _request(api, r, "01MISSINGPRODUCT0000000000", image_id, bob.tokens["access_token"])
        assert as_bob.status_code == missing.status_code == 404, (r.method, r.path, as_bob.json)
        assert as_bob.json["error"]["code"] == missing.json["error"]["code"] == "PRODUCT_NOT_FOUND"
    # And alice still has everything.
    assert alice.call("GET", f"/products/{product_id}").status_code == 200
    assert bob.call("GET", "/products").json["items"] == []


def test_the_route_table_and_chalice_agree(api) -> None:  # type: ignore[no-untyped-def]
    from app import app

    registered = {(path, method) for path, entries in app.routes.items() for method in entries}
    declared = {(route.prefix + r.path, r.method) for r in route.routes}
    assert registered == declared


def test_openapi_documents_every_route_with_its_models(api) -> None:  # type: ignore[no-untyped-def]
    document = api.call("GET", "/openapi.json").json
    assert document["openapi"].startswith("3.1")
    operations = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert operations == {(route.prefix + r.path, r.method) for r in route.routes}
    create = document["paths"]["/api/v1/products"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    new_product = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert new_product["additionalProperties"] is False
    assert new_product["properties"]["prompt"]["maxLength"] == 500
    declared = document["components"]["schemas"]["DeclaredImage"]
    assert declared["properties"]["size"]["maximum"] == 10 * 1024 * 1024
    assert set(create["responses"]) >= {"201", "401", "413", "422"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            path_params = set(re.findall(r"{(\w+)}", path))
            assert {p["name"] for p in operation["parameters"] if p["in"] == "path"} == path_params, (
                path,
                method,
            )
