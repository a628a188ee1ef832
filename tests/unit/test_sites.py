"""The one table of supported sites, checked against MercadoLibre's documentation, and the API
refusing any other site."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from chalicelib.api.schemas import CategorySearch, SettingsUpdate, Site
from chalicelib.domain.errors import Invalid
from chalicelib.domain.sites import SITE_IDS, SITES, currency_of, language_of, site
from chalicelib.marketplace.mercadolibre import MercadoLibreClient
from tests.mercadolibre_docs import example


def test_each_site_sells_in_the_currency_mercadolibre_lists_for_it() -> None:
    documented = {entry["id"]: entry["default_currency_id"] for entry in example("dominios-y-categorias", 2)}
    for found in SITES.values():
        # Venezuela: "solo puedes publicar productos y vehículos en dólares" (publica-productos).
        expected = "USD" if found.id == "MLV" else documented[found.id]
        assert found.currency == expected, found.id


def test_brazil_lists_in_portuguese_and_the_others_in_spanish() -> None:
    assert {site_id: language_of(site_id) for site_id in SITE_IDS} == {
        site_id: "pt" if site_id == "MLB" else "es" for site_id in SITE_IDS
    }


def test_sellers_sign_in_on_their_country_s_auth_host() -> None:
    client = MercadoLibreClient("https://api.mercadolibre.com", "1", "s", "https://x/cb")
    assert client.authorization_url("MLA", "st").startswith("https://auth.mercadolibre.com.ar/authorization?")
    assert client.authorization_url("MLB", "st").startswith("https://auth.mercadolivre.com.br/authorization?")
    assert client.authorization_url("MLC", "st").startswith("https://auth.mercadolibre.cl/authorization?")
    assert site("MLM").account_url == "https://myaccount.mercadolibre.com.mx/profile"


def test_any_other_site_is_refused_clearly_not_guessed() -> None:
    with pytest.raises(Invalid) as refused:
        currency_of("MBO")  # a MercadoLibre site, but not one IntelliPost knows how to publish on
    assert refused.value.code == "SITE_NOT_SUPPORTED"
    assert refused.value.params["allowed"] == list(SITE_IDS)
    with pytest.raises(Invalid):
        MercadoLibreClient("https://api.mercadolibre.com", "1", "s", "https://x/cb").authorization_url(
            "MPY", "st"
        )


def test_the_api_takes_exactly_the_table_s_sites() -> None:
    assert get_args(Site) == SITE_IDS
    assert SettingsUpdate(site="MLU").site == "MLU"
    for model, fields in ((SettingsUpdate, {}), (CategorySearch, {"q": "mate"})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**fields, "site": "MBO"})
        assert refused.value.errors()[0]["loc"] == ("site",)
