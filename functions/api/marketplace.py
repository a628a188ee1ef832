import os
from urllib.parse import urlencode

from chalice.app import Response

from chalicelib.api.edge import answer, caller, query
from chalicelib.api.schemas import CategorySearch, ConnectCallback, ConnectOut, MarketplaceAccountOut
from chalicelib.http import ApiError
from chalicelib.marketplace import accounts, catalog
from chalicelib.storage.models import User
from functions.api import blueprint, route


@route("/ml/connect", "GET", "Start connecting a MercadoLibre account", response=ConnectOut)
def connect_mercadolibre() -> Response:
    return answer(accounts.start_connection(caller(blueprint.current_request)))


@route(
    "/ml/callback",
    "GET",
    "Where MercadoLibre sends the seller back after signing in",
    auth=False,
    query=ConnectCallback,
    response=MarketplaceAccountOut,
    errors=(400, 502),
)
def mercadolibre_callback() -> Response:
    # No bearer token here: this is a browser redirect; the signed single-use state names the seller.
    # With a panel (PANEL_URL), the browser goes on to its settings page, which reads the outcome
    # (`ml=connected`, or `ml=error&code=CODE`) and shows the account or the error in words.
    panel = os.environ.get("PANEL_URL", "").rstrip("/")
    try:
        back = query(blueprint.current_request, ConnectCallback)
        if back.error or not back.code:
            raise ApiError(
                400,
                "CONNECT_DENIED",
                f"MercadoLibre did not authorize: {back.error_description or back.error}",
            )
        account = accounts.finish_connection(back.state, back.code)
    except ApiError as error:
        if not panel:
            raise
        return _to_panel(panel, {"ml": "error", "code": error.code})
    return _to_panel(panel, {"ml": "connected"}) if panel else answer(account)


def _to_panel(panel: str, outcome: dict[str, str]) -> Response:
    location = f"{panel}/settings?{urlencode(outcome)}"
    return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


@route(
    "/ml/account", "GET", "The connected MercadoLibre account", response=MarketplaceAccountOut, errors=(404,)
)
def mercadolibre_account() -> Response:
    return answer(accounts.get_account(caller(blueprint.current_request)))


@route("/ml/account", "DELETE", "Disconnect the MercadoLibre account", status=204, errors=(404,))
def disconnect_mercadolibre() -> Response:
    accounts.disconnect(caller(blueprint.current_request))
    return answer(None, 204)


@route(
    "/ml/categories",
    "GET",
    "Categories MercadoLibre predicts for a text",
    query=CategorySearch,
    errors=(502,),
)
def search_categories() -> Response:
    user_id = caller(blueprint.current_request)
    search = query(blueprint.current_request, CategorySearch)
    site = search.site or User.get(user_id).site
    return Response(body=catalog.predict_categories(site, search.q, search.limit), status_code=200)


@route("/ml/categories/{category_id}/attributes", "GET", "A category's technical sheet", errors=(404, 502))
def category_attributes(category_id: str) -> Response:
    caller(blueprint.current_request)
    return Response(body=catalog.category_attributes(category_id), status_code=200)
