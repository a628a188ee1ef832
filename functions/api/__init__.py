"""The API function: every /api/v1 route. Handlers read the caller, parse, call one service, answer."""

from chalice.app import Blueprint

from chalicelib.api.routes import RouteTable

PREFIX = "/api/v1"
blueprint = Blueprint(__name__)
route = RouteTable(blueprint, PREFIX)

# The route modules register themselves on `route` when imported.
from functions.api import accounts, health, listings, marketplace, products  # noqa: E402, F401
