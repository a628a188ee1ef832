"""Register, log in, refresh with rotation and reuse detection, log out, settings, throttling."""

from __future__ import annotations

import json

import pytest

from chalicelib import clock, sellers
from chalicelib.store.models import SessionRow as Session
from chalicelib.store.models import UserRow as User


def test_register_then_me(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller("Ana.Perez@Example.com ")
    assert seller.tokens["token_type"] == "Bearer" and seller.tokens["expires_in"] == 900
    me = seller.call("GET", "/me")
    assert me.status_code == 200
    assert me.json["email"] == "ana.perez@example.com"
    assert me.json["settings"] == {
        "auto_publish": False,
        "publish_threshold": 0.9,
        "site": "MLA",
        "listing_type": "gold_special",
        "default_quantity": None,
    }
    stored = User.get(seller.user_id)
    assert stored.password_hash.startswith("$argon2id$") and seller.password not in stored.password_hash


def test_an_email_registers_once_whatever_its_case(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    again = api.call(
        "POST", "/auth/register", {"email": seller.email.upper(), "password": "another password"}
    )
    assert again.status_code == 409
    assert again.json["error"]["code"] == "EMAIL_TAKEN"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "long enough"}, "email"),
        ({"email": "a@b.co", "password": "short"}, "password"),
        ({"email": "a@b.co", "password": "long enough", "admin": True}, "admin"),
        ({"email": "a@b.co"}, "password"),
        ({"email": "sel\u0000ler@example.com", "password": "long enough"}, "email"),
        ({"email": "seller@exa\u001bmple.com", "password": "long enough"}, "email"),
        ({"email": "seller@example.com", "password": 12345678}, "password"),
    ],
)
def test_bad_registrations_name_the_field(api, body: dict, field: str) -> None:  # type: ignore[no-untyped-def, type-arg]
    response = api.call("POST", "/auth/register", body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert response.json["error"]["details"]["field"] == field


def test_password_limit_is_reported_with_its_number(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("POST", "/auth/register", {"email": "a@b.co", "password": "x" * 129})
    assert response.json["error"]["details"]["limit"] == 128


def test_login_gives_tokens_and_a_wrong_password_does_not(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    good = api.call("POST", "/auth/login", {"email": seller.email, "password": seller.password})
    assert good.status_code == 200 and good.json["user"]["user_id"] == seller.user_id
    bad = api.call("POST", "/auth/login", {"email": seller.email, "password": "wrong password"})
    unknown = api.call("POST", "/auth/login", {"email": "nobody@example.com", "password": "wrong password"})
    # The same answer for a wrong password and an unknown email: nothing to enumerate.
    assert bad.status_code == unknown.status_code == 401
    assert bad.json["error"]["code"] == unknown.json["error"]["code"] == "INVALID_CREDENTIALS"


def test_refresh_rotates_and_a_token_replayed_later_closes_the_session(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    now = [clock.epoch()]
    monkeypatch.setattr(clock, "epoch", lambda: now[0])
    first = seller.tokens["refresh_token"]
    second = api.call("POST", "/auth/refresh", {"refresh_token": first})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first
    # Someone replays the old one after the grace: the whole session (family) is revoked, the new token too.
    now[0] += sellers.REUSE_GRACE_SECONDS + 1
    replay = api.call("POST", "/auth/refresh", {"refresh_token": first})
    assert replay.status_code == 401 and replay.json["error"]["code"] == "SESSION_REVOKED"
    after = api.call("POST", "/auth/refresh", {"refresh_token": second.json["refresh_token"]})
    assert after.status_code == 401 and after.json["error"]["code"] == "SESSION_ENDED"


def test_two_tabs_refreshing_with_one_token_both_stay_logged_in(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    token = seller.tokens["refresh_token"]
    first = api.call("POST", "/auth/refresh", {"refresh_token": token})
    second = api.call("POST", "/auth/refresh", {"refresh_token": token})  # the other tab, a moment later
    assert first.status_code == second.status_code == 200
    assert first.json["refresh_token"] == second.json["refresh_token"]
    # The pair they share goes on working: the session was not revoked.
    assert (
        api.call("POST", "/auth/refresh", {"refresh_token": second.json["refresh_token"]}).status_code == 200
    )


def test_a_token_older_than_the_last_one_is_a_replay_even_within_the_grace(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    first = seller.tokens["refresh_token"]
    second = api.call("POST", "/auth/refresh", {"refresh_token": first}).json["refresh_token"]
    assert api.call("POST", "/auth/refresh", {"refresh_token": second}).status_code == 200
    replay = api.call("POST", "/auth/refresh", {"refresh_token": first})
    assert replay.status_code == 401 and replay.json["error"]["code"] == "SESSION_REVOKED"


def test_a_made_up_secret_with_a_real_session_id_is_refused_and_revokes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    session_id = seller.tokens["refresh_token"].partition(".")[0]
    forged = api.call("POST", "/auth/refresh", {"refresh_token": f"{session_id}.{'x' * 43}"})
    assert forged.status_code == 401 and forged.json["error"]["code"] == "UNAUTHORIZED"
    # The owner's session is untouched.
    assert (
        api.call("POST", "/auth/refresh", {"refresh_token": seller.tokens["refresh_token"]}).status_code
        == 200
    )


def test_refresh_tokens_are_stored_hashed(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    session_id, _, token_secret = seller.tokens["refresh_token"].partition(".")
    stored = Session.get(session_id)
    assert token_secret not in stored.token_hash and len(stored.token_hash) == 64


def test_logout_ends_the_session(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    out = api.call("POST", "/auth/logout", {"refresh_token": seller.tokens["refresh_token"]})
    assert out.status_code == 204
    again = api.call("POST", "/auth/refresh", {"refresh_token": seller.tokens["refresh_token"]})
    assert again.status_code == 401


def test_garbage_refresh_tokens_are_refused(api) -> None:  # type: ignore[no-untyped-def]
    for token in ("nope", "a.b", "." * 10):
        response = api.call("POST", "/auth/refresh", {"refresh_token": token})
        assert response.status_code == 401, token


def test_settings_change_within_limits(api) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    changed = seller.call(
        "PUT",
        "/me/settings",
        {"auto_publish": True, "publish_threshold": 0.8, "site": "MLB", "default_quantity": 2},
    )
    assert changed.status_code == 200
    assert changed.json["settings"] == {
        "auto_publish": True,
        "publish_threshold": 0.8,
        "site": "MLB",
        "listing_type": "gold_special",
        "default_quantity": 2,
    }
    assert seller.call("GET", "/me").json["settings"]["site"] == "MLB"
    too_low = seller.call("PUT", "/me/settings", {"publish_threshold": 0.4})
    assert too_low.status_code == 422
    assert too_low.json["error"]["details"] == {
        "field": "publish_threshold",
        "limit": 0.5,
        "problems": too_low.json["error"]["details"]["problems"],
    }
    assert seller.call("PUT", "/me/settings", {"site": "XXX"}).status_code == 422
    assert seller.call("PUT", "/me/settings", {}).status_code == 422
    # JSON's types count: no text, number or word is taken for a yes or a number.
    for sent in ({"default_quantity": "1"}, {"default_quantity": True}, {"auto_publish": "yes"}):
        refused = seller.call("PUT", "/me/settings", sent)
        assert refused.status_code == 422 and refused.json["error"]["details"]["field"] == next(iter(sent))


def test_repeated_failed_logins_are_slowed_down_and_the_lock_lifts(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    now = [clock.epoch()]
    monkeypatch.setattr(clock, "epoch", lambda: now[0])
    wrong = {"email": seller.email, "password": "not the password"}
    codes = [api.call("POST", "/auth/login", wrong).status_code for _ in range(sellers.FREE_LOGIN_FAILURES)]
    assert codes == [401] * sellers.FREE_LOGIN_FAILURES
    locked = api.call("POST", "/auth/login", wrong)
    assert locked.status_code == 429
    assert locked.json["error"]["code"] == "RATE_LIMITED"
    assert locked.headers["Retry-After"] == str(sellers.LOCK_BASE_SECONDS)
    # Even the right password waits while the lock holds: the limit lives in DynamoDB, not in memory.
    right = {"email": seller.email, "password": seller.password}
    assert api.call("POST", "/auth/login", right).status_code == 429
    now[0] += sellers.LOCK_BASE_SECONDS + 1
    assert api.call("POST", "/auth/login", right).status_code == 200
    # A success clears the count.
    assert api.call("POST", "/auth/login", wrong).status_code == 401


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/refresh"])
def test_a_body_nested_too_deep_is_a_bad_request_before_it_is_parsed(api, path: str) -> None:  # type: ignore[no-untyped-def]
    deep = api.client.http.post(
        f"/api/v1{path}",
        headers={"Content-Type": "application/json"},
        body="[" * 1000 + "]" * 1000,
    )
    assert deep.status_code == 400
    error = json.loads(deep.body)["error"]
    assert error["code"] == "BAD_REQUEST" and error["details"] == {"limit": 16, "actual": 1000}
