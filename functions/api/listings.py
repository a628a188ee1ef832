import hashlib

from chalice.app import Response

from chalicelib import listings, publisher, timeline
from chalicelib.api.edge import answer, body, caller, query
from chalicelib.api.schemas import (
    EventsOut,
    EventsQuery,
    ListingEdit,
    ListingHistory,
    ListingOut,
    ProductOut,
    PromptChange,
    PublishRequest,
)
from chalicelib.domain.product import ProductStatus
from chalicelib.http import ApiError
from chalicelib.products import owned
from functions.api import blueprint, route


@route(
    "/products/{product_id}/listing",
    "GET",
    "The current listing, its confidence and the technical sheet",
    response=ListingOut,
    errors=(404,),
)
def get_listing(product_id: str) -> Response:
    return answer(listings.current(caller(blueprint.current_request), product_id))


@route(
    "/products/{product_id}/listing",
    "PUT",
    "Edit the listing (a new version by the seller)",
    body=ListingEdit,
    response=ListingOut,
    errors=(404, 409),
)
def edit_listing(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    return answer(listings.edit(user_id, product_id, body(blueprint.current_request, ListingEdit)))


@route(
    "/products/{product_id}/listing/versions",
    "GET",
    "Every version of the listing, newest first",
    response=ListingHistory,
    errors=(404,),
)
def listing_versions(product_id: str) -> Response:
    return answer(listings.history(caller(blueprint.current_request), product_id))


@route(
    "/products/{product_id}/listing/versions/{version}/restore",
    "POST",
    "Bring back an earlier version",
    response=ListingOut,
    errors=(404, 409),
)
def restore_version(product_id: str, version: str) -> Response:
    user_id = caller(blueprint.current_request)
    if not version.isdigit():
        raise ApiError(404, "VERSION_NOT_FOUND", "no such version", {"version": version})
    return answer(listings.restore(user_id, product_id, int(version)))


@route(
    "/products/{product_id}/prompt",
    "PUT",
    "Change the prompt: the listing is written again",
    body=PromptChange,
    response=ProductOut,
    errors=(404, 409),
)
def change_prompt(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    return answer(
        listings.change_prompt(user_id, product_id, body(blueprint.current_request, PromptChange).prompt)
    )


@route(
    "/products/{product_id}/pause",
    "PUT",
    "Hold automatic updates while making several changes",
    response=ProductOut,
    errors=(404,),
)
def pause_updates(product_id: str) -> Response:
    return answer(listings.set_paused(caller(blueprint.current_request), product_id, True))


@route(
    "/products/{product_id}/pause",
    "DELETE",
    "Resume automatic updates (runs the pipeline once)",
    response=ProductOut,
    errors=(404,),
)
def resume_updates(product_id: str) -> Response:
    return answer(listings.set_paused(caller(blueprint.current_request), product_id, False))


@route(
    "/products/{product_id}/events",
    "GET",
    "The progress timeline; send If-None-Match to poll cheaply",
    query=EventsQuery,
    response=EventsOut,
    errors=(404,),
)
def product_events(product_id: str) -> Response:
    request = blueprint.current_request
    product = owned(caller(request), product_id)
    events = timeline.events_of(product_id, query(request, EventsQuery).after)
    tag = hashlib.sha256(f"{product.status}|{events[-1].at if events else ''}".encode()).hexdigest()[:32]
    etag = f'"{tag}"'
    if request.headers and request.headers.get("if-none-match") == etag:
        return Response(body="", status_code=304, headers={"ETag": etag})
    out = answer(EventsOut(events=events, status=ProductStatus(product.status)))
    out.headers["ETag"] = etag
    return out


@route(
    "/products/{product_id}/publish",
    "POST",
    "Approve the current version and publish it on MercadoLibre",
    body=PublishRequest,
    response=ProductOut,
    errors=(404, 409),
)
def publish_product(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    return answer(publisher.approve(user_id, product_id, body(blueprint.current_request, PublishRequest)))
