"""Connecting a MercadoLibre account through the sandbox's sign-in page, and keeping its token fresh."""

from __future__ import annotations

import base64
import json
import threading

import pytest
import requests

from chalicelib import clock
from chalicelib.domain.errors import Conflict
from chalicelib.marketplace import connection
from chalicelib.store.models import MarketplaceAccountRow as MarketplaceAccount
from tests.selling import callback, connect, start_connecting


def test_a_seller_connects_and_sees_the_account(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    assert seller.call("GET", "/ml/account").json["error"]["code"] == "MERCADOLIBRE_NOT_CONNECTED"
    back = connect(api, sandbox, seller, "TIENDA_ANA")
    account = seller.call("GET", "/ml/account").json
    assert account["nickname"] == "TIENDA_ANA" and account["site"] == "MLA"
    assert account["status"] == "connected" and account["valid"] is True
    assert "token" not in json.dumps(account).lower().replace("access_expires_at", "")
    # The state works once.
    again = callback(api, back, None)
    assert again.status_code == 400 and again.json["error"]["code"] == "CONNECT_EXPIRED"
    assert seller.call("DELETE", "/ml/account").status_code == 204
    assert seller.call("GET", "/ml/account").status_code == 404


def test_tokens_are_sealed_at_rest(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    connect(api, sandbox, seller)
    row = MarketplaceAccount.get(seller.user_id)
    assert "APP_USR" not in row.access_token and "TG-" not in row.refresh_token
    assert connection.credentials(seller.user_id).access_token.startswith("APP_USR-")


def test_a_forged_or_denied_callback_is_refused(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    forged = api.call("GET", "/ml/callback?code=TG-x&state=abc.def")
    assert forged.status_code == 400 and forged.json["error"]["code"] == "CONNECT_INVALID"
    denied = api.call("GET", "/ml/callback?error=access_denied&state=abc.def")
    assert denied.status_code == 400 and denied.json["error"]["code"] == "CONNECT_DENIED"


def test_a_link_finished_in_another_browser_connects_nothing(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    url, _ = start_connecting(seller)
    # Seller B's link, completed in someone else's browser (no cookie, or that browser's own).
    back = sandbox.sign_in(url, "CUENTA_AJENA")
    for other in (None, {"Cookie": "intellipost_ml_connect=someone-elses-nonce"}):
        refused = callback(api, back, other)
        assert refused.status_code == 400 and refused.json["error"]["code"] == "CONNECT_OTHER_BROWSER"
        assert seller.call("GET", "/ml/account").status_code == 404
        back = sandbox.sign_in(start_connecting(seller)[0], "CUENTA_AJENA")


def test_with_a_panel_the_callback_lands_on_its_settings_page(api, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PANEL_URL", "http://127.0.0.1:8080/")
    seller = api.seller()
    url, browser = start_connecting(seller)
    back = sandbox.sign_in(url, "TIENDA_PANEL")
    query = "&".join(f"{k}={requests.utils.quote(v)}" for k, v in back.items())
    landed = api.call("GET", f"/ml/callback?{query}", headers=browser)
    assert landed.status_code == 303
    assert "Max-Age=0" in landed.headers["Set-Cookie"]
    assert landed.headers["Location"] == "http://127.0.0.1:8080/settings?ml=connected"
    assert seller.call("GET", "/ml/account").json["nickname"] == "TIENDA_PANEL"
    # A failure lands there too, with the code the panel puts in words.
    again = api.call("GET", f"/ml/callback?{query}")
    assert again.headers["Location"] == "http://127.0.0.1:8080/settings?ml=error&code=CONNECT_EXPIRED"
    denied = api.call("GET", "/ml/callback?error=access_denied&state=abc.def")
    assert denied.headers["Location"].endswith("/settings?ml=error&code=CONNECT_DENIED")


def test_a_refresh_that_lands_between_a_read_and_the_lease_is_not_done_again(  # type: ignore[no-untyped-def]
    api, sandbox, monkeypatch
) -> None:
    # One function reads the row (due), another refreshes and lets the lease go, then the first takes
    # the lease: refreshing with the token it read would spend a dead token and disconnect the seller.
    seller = api.seller()
    connect(api, sandbox, seller)
    MarketplaceAccount(user_id=seller.user_id).update(
        actions=[MarketplaceAccount.access_expires_at.set(int(clock.epoch()) + 10)]
    )
    stale = connection.get_account(seller.user_id)
    refreshed = connection.credentials(seller.user_id).access_token
    reads = [stale]
    real = connection.get_account
    monkeypatch.setattr(connection, "get_account", lambda user_id: reads.pop() if reads else real(user_id))
    assert connection.credentials(seller.user_id).access_token == refreshed
    assert MarketplaceAccount.get(seller.user_id).status == "connected"


def test_two_functions_refreshing_at_once_spend_the_refresh_token_once(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    connect(api, sandbox, seller)
    before = connection.credentials(seller.user_id).access_token
    # Make it due: our record says it is about to expire.
    MarketplaceAccount(user_id=seller.user_id).update(
        actions=[MarketplaceAccount.access_expires_at.set(int(clock.epoch()) + 10)]
    )
    results: list[str] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            results.append(connection.credentials(seller.user_id).access_token)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1] != before
    # A second refresh with a spent token would have been invalid_grant and disconnected the account.
    assert MarketplaceAccount.get(seller.user_id).status == "connected"
    me = requests.get(
        f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {results[0]}"}, timeout=10
    )
    assert me.status_code == 200


def test_a_refresh_token_mercadolibre_refuses_asks_the_seller_to_reconnect(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    connect(api, sandbox, seller)
    account = MarketplaceAccount.get(seller.user_id)
    # The refresh token gets spent elsewhere (another app instance): ours is now dead.
    from chalicelib.auth.sealing import unseal
    from chalicelib.marketplace.mercadolibre import get_mercadolibre

    get_mercadolibre().refresh(unseal(account.refresh_token, seller.user_id))
    account.update(actions=[MarketplaceAccount.access_expires_at.set(0)])
    with pytest.raises(Conflict) as raised:
        connection.credentials(seller.user_id)
    assert raised.value.code == "MERCADOLIBRE_RECONNECT"
    shown = seller.call("GET", "/ml/account").json
    assert shown["status"] == "disconnected" and shown["valid"] is False
    assert shown["problem"]["code"] == "MERCADOLIBRE_RECONNECT"


def test_categories_for_the_panel_are_predicted_and_cached(api, sandbox) -> None:  # type: ignore[no-untyped-def]
    seller = api.seller()
    found = seller.call("GET", "/ml/categories?q=celular%20samsung%20galaxy")
    assert found.status_code == 200 and found.json[0]["category_id"].startswith("MLA")
    attributes = seller.call("GET", "/ml/categories/MLA1055/attributes")
    assert attributes.status_code == 200 and any(a["id"] == "BRAND" for a in attributes.json)
    assert seller.call("GET", "/ml/categories/not-a-category/attributes").status_code == 404
    from chalicelib.store.models import MarketplaceCacheRow as MarketplaceCache

    cached = MarketplaceCache.get("attributes:MLA1055")
    assert cached.expires_at > clock.epoch() + 23 * 3600


def test_connecting_from_a_page_of_the_panel_comes_back_to_that_page(api, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PANEL_URL", "http://127.0.0.1:8080")
    seller = api.seller()
    started = seller.call("GET", "/ml/connect?return_to=%2Fproducts%2F01ABC%2Fpublish")
    assert started.status_code == 200
    browser = {"Cookie": started.headers["Set-Cookie"].split(";")[0]}
    back = sandbox.sign_in(started.json["authorization_url"], "TIENDA_VUELTA")
    landed = callback(api, back, browser)
    assert landed.status_code == 303
    assert landed.headers["Location"] == "http://127.0.0.1:8080/products/01ABC/publish?ml=connected"
    # A page with its own query keeps it; a failure goes back there too.
    started = seller.call("GET", "/ml/connect?return_to=%2Fproducts%3Fattention%3D1")
    browser = {"Cookie": started.headers["Set-Cookie"].split(";")[0]}
    denied = callback(api, {"error": "access_denied", "state": "abc.def"}, browser)
    assert (
        denied.headers["Location"]
        == "http://127.0.0.1:8080/products?attention=1&ml=error&code=CONNECT_DENIED"
    )


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "/a@evil.example", "/x y"],
)
def test_the_page_to_come_back_to_is_never_another_site(api, sandbox, monkeypatch, elsewhere) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PANEL_URL", "http://127.0.0.1:8080")
    seller = api.seller()
    refused = seller.call("GET", f"/ml/connect?return_to={requests.utils.quote(elsewhere, safe='')}")
    assert refused.status_code == 422 and refused.json["error"]["details"]["field"] == "return_to"
    # A cookie changed in the browser to carry another site lands on the settings page instead.
    url, browser = start_connecting(seller)
    nonce = browser["Cookie"].split("=", 1)[1]
    forged = base64.urlsafe_b64encode(elsewhere.encode()).decode()
    landed = callback(
        api, sandbox.sign_in(url, "TIENDA"), {"Cookie": f"intellipost_ml_connect={nonce}.{forged}"}
    )
    assert landed.headers["Location"] == "http://127.0.0.1:8080/settings?ml=connected"
