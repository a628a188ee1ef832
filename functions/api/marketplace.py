import base64
import binascii
import re
from urllib.parse import urlencode

from chalice.app import Request, Response

from chalicelib import sellers
from chalicelib.api.edge import BROWSER_COOKIE, answer, browser_cookie, cookie, query
from chalicelib.api.http import ApiError
from chalicelib.api.schemas import (
    RETURN_PATH,
    CategorySearch,
    ConnectCallback,
    ConnectOut,
    ConnectStart,
    MarketplaceAccountOut,
    Notification,
    NotificationOut,
)
from chalicelib.api.views import account_out, connect_out
from chalicelib.config import panel_url
from chalicelib.domain.errors import DomainError, Refused
from chalicelib.marketplace import catalog, connection, items
from chalicelib.marketplace.connection import CONNECT_SECONDS
from functions.api import route


@route(
    "/ml/connect",
    "GET",
    "Start connecting a MercadoLibre account (return_to: the panel's page to come back to)",
    query=ConnectStart,
    response=ConnectOut,
)
def connect_mercadolibre(user_id: str, query: ConnectStart) -> Response:
    link = connection.start_connection(user_id)
    out = answer(connect_out(link))
    out.headers["Set-Cookie"] = browser_cookie(_carry(link.browser_nonce, query.return_to), CONNECT_SECONDS)
    return out


@route(
    "/ml/callback",
    "GET",
    "Where MercadoLibre sends the seller back after signing in",
    auth=False,
    query=ConnectCallback,
    response=MarketplaceAccountOut,
    errors=(400, 502),
)
def mercadolibre_callback(request: Request) -> Response | MarketplaceAccountOut:
    # No bearer token here: this is a browser redirect; the signed single-use state names the seller.
    # With a panel (PANEL_URL), the browser goes back to the page the seller connected from (else
    # the settings page), which reads the outcome (`ml=connected`, or `ml=error&code=CODE`) and says
    # it in words; so the query is parsed here, where a bad one can still send the browser there.
    panel = panel_url()
    nonce, page = _carried(cookie(request, BROWSER_COOKIE))
    try:
        back = query(request, ConnectCallback)
        if back.error or not back.code:
            raise Refused(
                "CONNECT_DENIED", f"MercadoLibre did not authorize: {back.error_description or back.error}"
            )
        account = connection.finish_connection(back.state, back.code, nonce)
    except (DomainError, ApiError) as error:
        if not panel:
            raise
        return _to_panel(panel, page, {"ml": "error", "code": error.code})
    if panel:
        return _to_panel(panel, page, {"ml": "connected"})
    out = answer(account_out(account))
    out.headers["Set-Cookie"] = browser_cookie("", 0)  # used: the browser forgets it
    return out


def _carry(nonce: str, page: str | None) -> str:
    """The connection cookie: the browser's nonce, and the panel page to come back to (base64url)."""
    return f"{nonce}.{base64.urlsafe_b64encode(page.encode()).decode()}" if page else nonce


def _carried(value: str | None) -> tuple[str | None, str]:
    """The nonce and the page the cookie carries; a page that is not a path of the panel's own origin
    (the cookie is the browser's to change) is dropped for the settings page: never an open redirect."""
    nonce, _, encoded = (value or "").partition(".")
    try:
        page = base64.urlsafe_b64decode(encoded.encode()).decode() if encoded else ""
    except (binascii.Error, UnicodeDecodeError):
        page = ""
    return nonce or None, page if len(page) <= 300 and re.fullmatch(RETURN_PATH, page) else "/settings"


def _to_panel(panel: str, page: str, outcome: dict[str, str]) -> Response:
    location = f"{panel}{page}{'&' if '?' in page else '?'}{urlencode(outcome)}"
    headers: dict[str, str | list[str]] = {
        "Location": location,
        "Cache-Control": "no-store",
        "Set-Cookie": browser_cookie("", 0),
    }
    return Response(body="", status_code=303, headers=headers)


@route(
    "/ml/account", "GET", "The connected MercadoLibre account", response=MarketplaceAccountOut, errors=(404,)
)
def mercadolibre_account(user_id: str) -> MarketplaceAccountOut:
    return account_out(connection.get_account(user_id))


@route("/ml/account", "DELETE", "Disconnect the MercadoLibre account", status=204, errors=(404,))
def disconnect_mercadolibre(user_id: str) -> None:
    connection.disconnect(user_id)


@route(
    "/ml/categories",
    "GET",
    "Categories MercadoLibre predicts for a text",
    query=CategorySearch,
    errors=(502,),
)
def search_categories(user_id: str, query: CategorySearch) -> Response:
    site = query.site or sellers.site_of(user_id)
    return Response(body=catalog.predict_categories(site, query.q, query.limit), status_code=200)


@route("/ml/categories/{category_id}/attributes", "GET", "A category's technical sheet", errors=(404, 502))
def category_attributes(user_id: str, category_id: str) -> Response:
    return Response(body=catalog.category_attributes(category_id), status_code=200)


@route(
    "/ml/notifications",
    "POST",
    "MercadoLibre's notifications (items topic): checked, then the item's status is read back",
    auth=False,
    body=Notification,
    response=NotificationOut,
)
def mercadolibre_notification(body: Notification) -> NotificationOut:
    # No bearer token: MercadoLibre calls. Answered 200 at once whatever it was (or MercadoLibre
    # sends it again for an hour); only a notification that passes every check is acted on.
    outcome = items.notified(body.model_dump())
    return NotificationOut(outcome=outcome.outcome, reason=outcome.reason)  # type: ignore[arg-type]
