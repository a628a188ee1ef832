"""The MercadoLibre sites IntelliPost publishes on: one table, taken from MercadoLibre's documentation.

Per site: its country's MercadoLibre domain, the currency a listing there is priced in and the
language it is written in. From them: where its sellers sign in and where they complete their
account data. Sources (the 2026 developer docs scrape, data/mercadolibre/reference/):

- currency: `default_currency_id` of `GET /sites` (dominios-y-categorias), except Venezuela, where
  "solo puedes publicar productos y vehículos en dólares" (publica-productos, Moneda);
- language: the country's `locale` (ubicacion-y-monedas, classified_locations/countries): pt_BR
  for Brazil, es_* elsewhere;
- sign-in host: `https://auth.mercadolibre.com.ar/authorization`, "cambiar el .com.ar por el
  dominio del país correspondiente" (autenticacion-y-autorizacion);
- account data: Mi cuenta > Mis datos, `https://myaccount.mercadolibre.com.ar/profile`
  (validar-datos-de-vendedores), on the country's domain.

Any other site is refused with a clear error, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import Invalid


@dataclass(frozen=True)
class Site:
    id: str
    country: str
    domain: str  # the country's MercadoLibre domain
    currency: str
    language: str  # the listing's language: es | pt

    @property
    def auth_host(self) -> str:
        return f"https://auth.{self.domain}"

    @property
    def account_url(self) -> str:
        """Where the seller completes their account data (address, phone...)."""
        return f"https://myaccount.{self.domain}/profile"


SITES: dict[str, Site] = {
    site.id: site
    for site in (
        Site("MLA", "Argentina", "mercadolibre.com.ar", "ARS", "es"),
        Site("MLB", "Brasil", "mercadolivre.com.br", "BRL", "pt"),
        Site("MLM", "México", "mercadolibre.com.mx", "MXN", "es"),
        Site("MLC", "Chile", "mercadolibre.cl", "CLP", "es"),
        Site("MCO", "Colombia", "mercadolibre.com.co", "COP", "es"),
        Site("MLU", "Uruguay", "mercadolibre.com.uy", "UYU", "es"),
        Site("MPE", "Perú", "mercadolibre.com.pe", "PEN", "es"),
        Site("MEC", "Ecuador", "mercadolibre.com.ec", "USD", "es"),
        Site("MLV", "Venezuela", "mercadolibre.com.ve", "USD", "es"),
    )
}
SITE_IDS = tuple(SITES)


def site(site_id: str) -> Site:
    """The site, or Invalid naming the ones IntelliPost supports."""
    found = SITES.get(site_id.upper())
    if found is None:
        raise Invalid(
            "SITE_NOT_SUPPORTED",
            f"site: {site_id} is not a MercadoLibre site IntelliPost publishes on ({', '.join(SITE_IDS)})",
            {"field": "site", "site": site_id, "allowed": list(SITE_IDS)},
        )
    return found


def currency_of(site_id: str) -> str:
    return site(site_id).currency


def language_of(site_id: str) -> str:
    """Portuguese for Brazil, Spanish everywhere else: the listing's language follows the site."""
    return site(site_id).language
