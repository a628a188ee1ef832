"""Products and their photos, as the seller manages them through the API.

Every function takes the caller's user id first and reads through it, so another seller's product
answers exactly like a missing one. Changes that affect the listing start a new revision; the
pipeline (chalicelib.pipeline) takes it from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import clock, pipeline, store, timeline
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.keys import UploadKey, product_prefixes
from chalicelib.domain.limits import CONTENT_TYPES, check_new_images
from chalicelib.domain.product import IllegalTransition, ProductStatus, move
from chalicelib.domain.records import Event, Image, Product
from chalicelib.marketplace import items
from chalicelib.store import blobs


@dataclass(frozen=True)
class DeclaredPhoto:
    """A photo the seller is about to upload, as they declared it."""

    file_name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ProductDetail:
    """A product with its photos; with the forms to upload new ones, or its timeline, when asked."""

    product: Product
    images: list[Image]
    upload_forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] | None = None


# -- reading -----------------------------------------------------------------------------------------


def owned(user_id: str, product_id: str) -> Product:
    product = store.products.get(user_id, product_id)
    if product is None:
        raise NotFound("PRODUCT_NOT_FOUND", "no such product", {"product_id": product_id})
    return product


def get(user_id: str, product_id: str) -> ProductDetail:
    return detail(owned(user_id, product_id))


def detail(product: Product) -> ProductDetail:
    """The product (already read through its owner) with its photos and its timeline."""
    return ProductDetail(
        product, store.images.of(product.product_id), events=timeline.events_of(product.product_id)
    )


def list_products(user_id: str, **filters: Any) -> tuple[list[Product], str | None]:
    """One page of the seller's products (filters: limit, status, band, text, cursor; see the store)."""
    return store.products.page(user_id, **filters)


# -- changing ----------------------------------------------------------------------------------------


def create(user_id: str, prompt: str, declared: list[DeclaredPhoto]) -> ProductDetail:
    _check_limits([], declared)
    now = clock.now()
    product = Product(
        user_id=user_id,
        product_id=clock.new_id(),
        status=ProductStatus.UPLOADING,
        prompt=prompt,
        created_at=now,
        updated_at=now,
    )
    images, forms = _declare_images(product, declared, first_position=0)
    product = store.products.add(product)
    timeline.record(
        product.product_id,
        "upload",
        "WAITING_FOR_PHOTOS",
        f"waiting for {len(images)} photo(s) to arrive",
        {"count": len(images)},
        percent=0,
    )
    return ProductDetail(product, images, forms)


def add_images(user_id: str, product_id: str, declared: list[DeclaredPhoto]) -> ProductDetail:
    product = owned(user_id, product_id)
    kept = [image for image in store.images.of(product_id) if image.status != "rejected"]
    _check_limits(kept, declared)
    first = max((image.position for image in kept), default=-1) + 1
    product = _new_revision(product, uploading=True)
    images, forms = _declare_images(product, declared, first_position=first)
    timeline.record(
        product_id,
        "upload",
        "WAITING_FOR_PHOTOS",
        f"waiting for {len(images)} new photo(s)",
        {"count": len(images)},
    )
    return ProductDetail(product, store.images.of(product_id), forms)


def delete_image(user_id: str, product_id: str, image_id: str) -> ProductDetail:
    product = owned(user_id, product_id)
    image = _image_of(product, image_id)
    product = _new_revision(
        product, changes=lambda current: {"main_image_id": None} if current.main_image_id == image_id else {}
    )
    blobs.delete(image.original_key)
    store.images.delete(image)
    return _after_edit(product, "PHOTO_REMOVED", f"photo {image.file_name} removed", image.file_name)


def reorder_images(user_id: str, product_id: str, image_ids: list[str]) -> ProductDetail:
    product = owned(user_id, product_id)
    images = {i.image_id: i for i in store.images.of(product_id) if i.status != "rejected"}
    if sorted(image_ids) != sorted(images):
        raise Invalid(
            "VALIDATION_ERROR",
            "image_ids: list every photo of the product exactly once",
            {"field": "image_ids", "expected": sorted(images)},
        )
    product = _new_revision(product)
    for position, image_id in enumerate(image_ids):
        store.images.update(product_id, image_id, position=position)
    return _after_edit(product, "PHOTOS_REORDERED", "photos reordered")


def choose_main_image(user_id: str, product_id: str, image_id: str) -> ProductDetail:
    product = owned(user_id, product_id)
    image = _image_of(product, image_id)
    if image.status == "rejected":
        raise Conflict(
            "IMAGE_REJECTED", "a rejected photo cannot be the main picture", {"image_id": image_id}
        )
    product = _new_revision(product, changes=lambda current: {"main_image_id": image_id})
    return _after_edit(
        product, "MAIN_PHOTO_CHOSEN", f"{image.file_name} is now the main photo", image.file_name
    )


def delete(user_id: str, product_id: str, item: str | None = None) -> None:
    """The product and everything of it. Listed on MercadoLibre, the seller says what becomes of the
    item: `close` closes it there first (for good), `keep` leaves it for them to manage there."""
    product = owned(user_id, product_id)
    if product.status is ProductStatus.PUBLISHING:
        raise Conflict("PRODUCT_BUSY", "the product is being published; try again when it finishes")
    listed = product.item and product.item.get("status") != "closed"
    if listed and item not in ("close", "keep"):
        raise Conflict(
            "ITEM_STILL_LISTED",
            "the product is on MercadoLibre: close its item there (item=close) or keep it (item=keep)",
            {"item_id": product.item["id"] if product.item else None},
        )
    if listed and item == "close":
        items.close(product)
    blobs.delete_prefixes(product_prefixes(user_id, product_id))
    store.images.delete_all(product_id)
    store.events.forget(product_id)
    store.products.delete(product)


def _after_edit(product: Product, code: str, message: str, file_name: str | None = None) -> ProductDetail:
    """Say what changed on the timeline, let the pipeline take the new revision, answer the product."""
    timeline.record(product.product_id, "edit", code, message, {"file_name": file_name} if file_name else {})
    pipeline.advance(product)
    return get(product.user_id, product.product_id)


# -- helpers -----------------------------------------------------------------------------------------


def _check_limits(kept: list[Image], declared: list[DeclaredPhoto]) -> None:
    sizes = [image.bytes if image.bytes is not None else image.declared_bytes for image in kept]
    problem = check_new_images(sizes, [d.size for d in declared])
    if problem is not None:
        raise Invalid(
            "VALIDATION_ERROR",
            problem.message,
            {
                "field": problem.field,
                "reason": problem.code,
                "limit": problem.limit,
                "actual": problem.actual,
            },
        )


def _declare_images(
    product: Product, declared: list[DeclaredPhoto], first_position: int
) -> tuple[list[Image], dict[str, dict[str, Any]]]:
    now = clock.now()
    images: list[Image] = []
    forms: dict[str, dict[str, Any]] = {}
    for offset, item in enumerate(declared):
        image_id = clock.new_id()
        key = str(UploadKey(product.user_id, product.product_id, image_id, CONTENT_TYPES[item.content_type]))
        images.append(
            Image(
                product_id=product.product_id,
                image_id=image_id,
                user_id=product.user_id,
                original_key=key,
                status="declared",
                position=first_position + offset,
                file_name=item.file_name,
                declared_content_type=item.content_type,
                declared_bytes=item.size,
                created_at=now,
            )
        )
        forms[image_id] = blobs.upload_form(key, item.content_type, item.size, now)
    store.images.add(images)
    return images, forms


def _image_of(product: Product, image_id: str) -> Image:
    image = store.images.get(product.product_id, image_id)
    if image is None:
        raise NotFound("IMAGE_NOT_FOUND", "no such photo in this product", {"image_id": image_id})
    return image


def _new_revision(
    product: Product,
    *,
    uploading: bool = False,
    changes: Callable[[Product], dict[str, Any]] = lambda current: {},
) -> Product:
    """Bump the revision (older in-flight work is then dropped when it lands).

    Decided on the product as it is when the write lands: the pipeline moves the product between
    steps all the time, and the seller's own change (a photo added while the listing is written)
    simply starts a new revision from there; only publishing holds it. The status moves to
    uploading when new photos are on their way; otherwise pipeline.advance decides what runs next.
    """

    def decide(current: Product) -> dict[str, Any]:
        if current.status is ProductStatus.PUBLISHING:
            raise Conflict("PRODUCT_BUSY", "the product is being published; try again when it finishes")
        written = changes(current)
        if uploading and current.status is not ProductStatus.UPLOADING:
            try:
                written["status"] = move(current.status, ProductStatus.UPLOADING)
            except IllegalTransition as error:
                raise Conflict("PRODUCT_BUSY", str(error)) from None
        return {**written, "revision": current.revision + 1}

    # The store's read-again-and-decide-again loop: another writer first means deciding again.
    written = store.products.update(product, decide)
    if written is None:
        raise NotFound("PRODUCT_NOT_FOUND", "no such product", {"product_id": product.product_id})
    return written
