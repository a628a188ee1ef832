import hashlib

from chalice.app import Request, Response

from chalicelib import listings, products, timeline
from chalicelib.api.edge import answer
from chalicelib.api.schemas import (
    EventsOut,
    EventsQuery,
    ItemEdit,
    ListingEdit,
    ListingHistory,
    ListingOut,
    ProductOut,
    PromptChange,
    PublishRequest,
)
from chalicelib.api.views import events_out, history_out, listing_out, product_out
from chalicelib.domain.errors import NotFound
from chalicelib.listings import AttributeValue, ItemChange, ListingChange
from functions.api import route


@route(
    "/products/{product_id}/listing",
    "GET",
    "The current listing, its confidence and the technical sheet",
    response=ListingOut,
    errors=(404,),
)
def get_listing(user_id: str, product_id: str) -> ListingOut:
    return listing_out(listings.current(user_id, product_id))


@route(
    "/products/{product_id}/listing",
    "PUT",
    "Edit the listing (a new version by the seller)",
    body=ListingEdit,
    response=ListingOut,
    errors=(404, 409),
)
def edit_listing(user_id: str, product_id: str, body: ListingEdit) -> ListingOut:
    change = ListingChange(
        version=body.version,
        title=body.title,
        description=body.description,
        category_id=body.category_id,
        attributes=None
        if body.attributes is None
        else [AttributeValue(a.id, a.value_id, a.value_name) for a in body.attributes],
        condition=body.condition,
        reset=list(body.reset),
    )
    return listing_out(listings.edit(user_id, product_id, change))


@route(
    "/products/{product_id}/listing/versions",
    "GET",
    "Every version of the listing, newest first",
    response=ListingHistory,
    errors=(404,),
)
def listing_versions(user_id: str, product_id: str) -> ListingHistory:
    return history_out(*listings.history(user_id, product_id))


@route(
    "/products/{product_id}/listing/versions/{version}/restore",
    "POST",
    "Bring back an earlier version",
    response=ListingOut,
    errors=(404, 409),
)
def restore_version(user_id: str, product_id: str, version: str) -> ListingOut:
    if not version.isdigit():
        raise NotFound("VERSION_NOT_FOUND", "no such version", {"version": version})
    return listing_out(listings.restore(user_id, product_id, int(version)))


@route(
    "/products/{product_id}/prompt",
    "PUT",
    "Change the prompt: the listing is written again",
    body=PromptChange,
    response=ProductOut,
    errors=(404, 409),
)
def change_prompt(user_id: str, product_id: str, body: PromptChange) -> ProductOut:
    return product_out(listings.change_prompt(user_id, product_id, body.prompt))


@route(
    "/products/{product_id}/pause",
    "PUT",
    "Hold automatic updates while making several changes",
    response=ProductOut,
    errors=(404,),
)
def pause_updates(user_id: str, product_id: str) -> ProductOut:
    return product_out(listings.set_paused(user_id, product_id, True))


@route(
    "/products/{product_id}/pause",
    "DELETE",
    "Resume automatic updates (runs the pipeline once)",
    response=ProductOut,
    errors=(404,),
)
def resume_updates(user_id: str, product_id: str) -> ProductOut:
    return product_out(listings.set_paused(user_id, product_id, False))


@route(
    "/products/{product_id}/events",
    "GET",
    "The progress timeline; send If-None-Match to poll cheaply",
    query=EventsQuery,
    response=EventsOut,
    errors=(404,),
)
def product_events(user_id: str, product_id: str, query: EventsQuery, request: Request) -> Response:
    product = products.owned(user_id, product_id)
    events = timeline.events_of(product_id, query.after)
    tag = hashlib.sha256(f"{product.status}|{events[-1].at if events else ''}".encode()).hexdigest()[:32]
    etag = f'"{tag}"'
    if request.headers and request.headers.get("if-none-match") == etag:
        return Response(body="", status_code=304, headers={"ETag": etag})
    out = answer(events_out(events, product))
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
def publish_product(user_id: str, product_id: str, body: PublishRequest) -> ProductOut:
    return product_out(
        listings.approve(
            user_id,
            product_id,
            price=body.price,
            quantity=body.quantity,
            currency=body.currency,
            listing_type=body.listing_type,
            condition=body.condition,
        )
    )


@route(
    "/products/{product_id}/item",
    "PUT",
    "Change the item on MercadoLibre: price, quantity, or status (pause, reactivate, close)",
    body=ItemEdit,
    response=ProductOut,
    errors=(404, 409),
)
def change_item(user_id: str, product_id: str, body: ItemEdit) -> ProductOut:
    change = ItemChange(body.price, body.quantity, body.status)
    return product_out(listings.change_item(user_id, product_id, change))
