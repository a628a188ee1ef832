"""A route that needs a setting the stage lacks answers 503 SETTING_MISSING naming it: the MercadoLibre
connection without its app id was a 500 before (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.marketplace.mercadolibre import get_mercadolibre


def test_connecting_without_the_app_id_names_the_missing_setting(
    api: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = api.seller()
    monkeypatch.delenv("MERCADOLIBRE_CLIENT_ID")
    get_mercadolibre.cache_clear()
    try:
        answer = seller.call("GET", "/ml/connect")
    finally:
        get_mercadolibre.cache_clear()  # rebuilt with the app id once monkeypatch puts it back
    assert answer.status_code == 503
    error = answer.json["error"]
    assert (error["code"], error["details"]) == ("SETTING_MISSING", {"setting": "MERCADOLIBRE_CLIENT_ID"})
    assert "/intellipost/" not in answer.body.decode()  # where it comes from is for the logs, not the public
