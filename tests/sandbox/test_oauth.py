"""OAuth 2.0 as MercadoLibre runs it: PKCE codes, 6-hour tokens, single-use rotating refresh tokens."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask.testing import FlaskClient

from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID
from tests.sandbox.conftest import (
    REDIRECT_URI,
    FakeClock,
    Seller,
    authorization_code,
    exchange,
    pkce_pair,
    refresh,
)

EXAMPLES = Path(__file__).parents[2] / "infra" / "local" / "mercadolibre" / "data" / "examples"


def example(name: str) -> dict[str, object]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_code_flow_with_pkce_gives_tokens_shaped_like_mercadolibre_s(client: FlaskClient) -> None:
    verifier, challenge = pkce_pair()
    answer = exchange(client, authorization_code(client, challenge=challenge), verifier)

    assert answer.status_code == 200
    tokens = answer.json
    assert set(tokens) == set(example("tecnogo_oauth_token_success.json"))
    assert re.fullmatch(
        rf"APP_USR-{DEFAULT_CLIENT_ID}-\d{{6}}-[0-9a-f]{{32}}-{tokens['user_id']}", tokens["access_token"]
    )
    assert re.fullmatch(rf"TG-[0-9a-f]{{24}}-{tokens['user_id']}", tokens["refresh_token"])
    assert (tokens["token_type"], tokens["expires_in"], tokens["scope"]) == (
        "Bearer",
        21600,
        "offline_access read write",
    )
    me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json
    assert (me["id"], me["nickname"], me["site_id"]) == (tokens["user_id"], "TESTSELLER", "MLA")
    assert "test_user" in me["tags"]


def test_the_same_nickname_signs_in_as_the_same_seller(client: FlaskClient) -> None:
    first = exchange(client, authorization_code(client, "vendedor1")).json
    second = exchange(client, authorization_code(client, "VENDEDOR1")).json
    other_site = exchange(client, authorization_code(client, "vendedor1", "MLB")).json

    assert first["user_id"] == second["user_id"] != other_site["user_id"]


def test_a_wrong_code_verifier_is_an_invalid_grant(client: FlaskClient) -> None:
    _, challenge = pkce_pair()
    code = authorization_code(client, challenge=challenge)

    wrong = exchange(client, code, "another-verifier-" + "y" * 40)
    assert wrong.status_code == 400
    assert wrong.json["error"] == "invalid_grant"
    assert exchange(client, authorization_code(client, challenge=challenge)).json["error"] == "invalid_grant"


def test_an_authorization_code_works_once(client: FlaskClient) -> None:
    verifier, challenge = pkce_pair()
    code = authorization_code(client, challenge=challenge)
    assert exchange(client, code, verifier).status_code == 200

    reused = exchange(client, code, verifier)
    assert reused.status_code == 400
    assert reused.json == example("docs_oauth_invalid_grant.json")  # exactly the documented body


def test_an_authorization_code_lasts_ten_minutes(client: FlaskClient, clock: FakeClock) -> None:
    code = authorization_code(client)
    clock.advance(10 * 60 + 1)
    assert exchange(client, code).json["error"] == "invalid_grant"


def test_the_code_only_works_with_its_redirect_uri(client: FlaskClient) -> None:
    code = authorization_code(client)
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": "local-sandbox-secret",
            "code": code,
            "redirect_uri": REDIRECT_URI + "/elsewhere",
        },
    )
    assert answer.json["error"] == "invalid_grant"


def test_a_refresh_token_is_single_use_and_every_refresh_rotates_it(
    client: FlaskClient, seller: Seller
) -> None:
    renewed = refresh(client, seller.refresh_token)
    assert renewed.status_code == 200
    assert renewed.json["refresh_token"] != seller.refresh_token
    assert renewed.json["access_token"] != seller.access_token
    assert renewed.json["user_id"] == seller.user_id

    replayed = refresh(client, seller.refresh_token)
    assert replayed.status_code == 400
    assert replayed.json["error"] == "invalid_grant"
    assert refresh(client, renewed.json["refresh_token"]).status_code == 200


def test_access_tokens_expire_after_six_hours_and_a_refresh_brings_access_back(
    client: FlaskClient, seller: Seller, clock: FakeClock
) -> None:
    clock.advance(6 * 60 * 60 - 1)
    assert seller.get("/users/me").status_code == 200
    clock.advance(1)

    expired = seller.get("/users/me")
    assert expired.status_code == 401
    assert expired.json == example("docs_invalid_token_401.json")

    renewed = refresh(client, seller.refresh_token).json
    assert (
        client.get("/users/me", headers={"Authorization": f"Bearer {renewed['access_token']}"}).status_code
        == 200
    )


def test_the_expire_tokens_knob_ends_every_access_token_now(client: FlaskClient, seller: Seller) -> None:
    assert client.post("/_sandbox/expire-tokens").json == {"expired": 1}
    assert seller.get("/users/me").status_code == 401
    assert refresh(client, seller.refresh_token).status_code == 200


def test_a_missing_or_unknown_bearer_token_is_refused_in_mercadolibre_s_shape(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer APP_USR-not-a-token"}, {"Authorization": "Basic abc"}):
        answer = client.get("/users/me", headers=headers)
        assert answer.status_code == 401
        assert answer.json == {"message": "invalid_token", "error": "not_found", "status": 401, "cause": []}


def test_a_wrong_client_secret_is_an_invalid_client(client: FlaskClient) -> None:
    code = authorization_code(client)
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": "guess",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert answer.status_code == 400
    assert answer.json == {
        "message": "invalid client_id or client_secret.",
        "error": "invalid_client",
        "status": 400,
        "cause": [],
    }
    assert (
        client.post("/oauth/token", data={"grant_type": "password"}).json["error"] == "unsupported_grant_type"
    )


def test_apps_are_registered_in_the_state_and_keep_to_their_redirect_uri(client: FlaskClient) -> None:
    app = {"client_id": "777", "client_secret": "s3", "redirect_uri": "https://panel.example/callback"}
    assert client.post("/_sandbox/apps", json=app).status_code == 201
    params = {"response_type": "code", "client_id": "777"}

    assert (
        client.get("/authorization", query_string={**params, "redirect_uri": app["redirect_uri"]}).status_code
        == 200
    )
    mismatch = client.get("/authorization", query_string={**params, "redirect_uri": "https://evil.example/"})
    assert mismatch.status_code == 400
    assert mismatch.json["error"] == "invalid_request"
    unknown = client.get(
        "/authorization", query_string={**params, "client_id": "1", "redirect_uri": REDIRECT_URI}
    )
    assert unknown.json["error"] == "invalid_client"
