"""MercadoLibre's sites: the currency each one sells in and the language its listings are written in."""

from __future__ import annotations

SITE_CURRENCY = {
    "MLA": "ARS",
    "MLB": "BRL",
    "MLM": "MXN",
    "MLC": "CLP",
    "MCO": "COP",
    "MLU": "UYU",
    "MPE": "PEN",
    "MLV": "VES",
    "MEC": "USD",
}


def currency_of(site: str) -> str:
    return SITE_CURRENCY.get(site.upper(), "ARS")


def language_of(site: str) -> str:
    """Portuguese for Brazil, Spanish everywhere else: the listing's language follows the site."""
    return "pt" if site.upper() == "MLB" else "es"
