"""Products and their photos, as the seller manages them through the API.

Every function takes the caller's user id first and reads through it, so another seller's product
answers exactly like a missing one. Changes that affect the listing start a new revision; the
pipeline (chalicelib.pipeline) takes it from there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from chalicelib import clock, pipeline, timeline
from chalicelib.api.schemas import (
    DeclaredImage,
    ImageOrder,
    ImageOut,
    MainPicture,
    NewImages,
    NewProduct,
    PhotoQuality,
    ProductFilters,
    ProductOut,
    ProductPage,
    Reason,
    UploadForm,
)
from chalicelib.domain.confidence import GREEN_ABOVE, RED_BELOW, Band, band
from chalicelib.domain.intake import LimitProblem, check_new_images
from chalicelib.domain.keys import UploadKey, product_prefixes
from chalicelib.domain.limits import CONTENT_TYPES
from chalicelib.domain.product import IllegalTransition, ProductStatus, move
from chalicelib.domain.search import fold, search_text
from chalicelib.http import ApiError
from chalicelib.storage import blobs
from chalicelib.storage.models import Image, Product

# -- reading -----------------------------------------------------------------------------------------


def owned(user_id: str, product_id: str) -> Product:
    try:
        return Product.get(user_id, product_id, consistent_read=True)
    except DoesNotExist:
        raise ApiError(404, "PRODUCT_NOT_FOUND", "no such product", {"product_id": product_id}) from None


def get(user_id: str, product_id: str) -> ProductOut:
    product = owned(user_id, product_id)
    return product_out(product, pipeline.images_of(product_id), events=True)


def list_products(user_id: str, filters: ProductFilters) -> ProductPage:
    start = _decode_cursor(filters.next)
    condition = None
    if filters.q:
        condition = Product.search_text.contains(fold(filters.q))
    if filters.confidence:
        by_band = _band_condition(filters.confidence)
        condition = by_band if condition is None else condition & by_band
    results: Iterator[Product]
    # One page and the item that says another exists; with a filter DynamoDB counts the items it
    # read, not the ones kept, so let it read whole pages then.
    page_size = filters.limit + 1 if condition is None else None
    if filters.status:
        results = Product.by_status.query(
            user_id,
            Product.status_sort.startswith(f"{filters.status.value}#"),
            scan_index_forward=False,
            filter_condition=condition,
            last_evaluated_key=_index_key(user_id, start) if start else None,
            page_size=page_size,
        )
    else:
        results = Product.query(
            user_id,
            scan_index_forward=False,
            filter_condition=condition,
            last_evaluated_key=_table_key(user_id, start) if start else None,
            page_size=page_size,
        )
    items: list[Product] = []
    more = False
    for product in results:
        if len(items) == filters.limit:
            more = True
            break
        items.append(product)
    cursor = _encode_cursor(items[-1]) if more else None
    return ProductPage(items=[product_out(p) for p in items], next=cursor)


def _band_condition(wanted: Band) -> Any:
    if wanted is Band.GREEN:
        return Product.confidence > GREEN_ABOVE
    if wanted is Band.RED:
        return Product.confidence < RED_BELOW
    return Product.confidence.between(RED_BELOW, GREEN_ABOVE)


def _encode_cursor(product: Product) -> str:
    raw = json.dumps({"p": product.product_id, "s": product.status_sort}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> dict[str, str] | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(data, dict) and isinstance(data.get("p"), str) and isinstance(data.get("s"), str):
            return {"p": data["p"], "s": data["s"]}
    except (ValueError, binascii.Error):
        pass
    raise ApiError(422, "VALIDATION_ERROR", "next: not a cursor this API gave out", {"field": "next"})


def _table_key(user_id: str, start: dict[str, str]) -> dict[str, Any]:
    # The caller's own user id, never one from the cursor: a cursor cannot reach another seller.
    return {"user_id": {"S": user_id}, "product_id": {"S": start["p"]}}


def _index_key(user_id: str, start: dict[str, str]) -> dict[str, Any]:
    return {**_table_key(user_id, start), "status_sort": {"S": start["s"]}}


# -- answering ---------------------------------------------------------------------------------------


def product_out(
    product: Product,
    images: list[Image] | None = None,
    *,
    upload_forms: dict[str, UploadForm] | None = None,
    events: bool = False,
) -> ProductOut:
    current = int(product.pictures_revision) == int(product.revision)
    chosen = product.chosen_main_image_id if current else None
    explicit = pipeline.main_image_id(product, images) if images is not None else product.main_image_id
    main = chosen or explicit
    return ProductOut(
        product_id=product.product_id,
        status=ProductStatus(product.status),
        prompt=product.prompt,
        revision=int(product.revision),
        title=product.title,
        confidence=product.confidence,
        confidence_band=band(product.confidence) if product.confidence is not None else None,
        thumbnail_url=blobs.download_link(product.thumbnail_key) if product.thumbnail_key else None,
        main_image_id=main,
        main_picture=_main_picture_out(product, images) if current and images is not None else None,
        current_version=int(product.current_version),
        paused=bool(product.paused),
        item=product.item,
        attention=Reason(**product.attention) if product.attention else None,
        created_at=product.created_at,
        updated_at=product.updated_at,
        images=[_image_out(image, main, (upload_forms or {}).get(image.image_id)) for image in images]
        if images is not None
        else None,
        events=timeline.events_of(product.product_id) if events else None,
    )


def _main_picture_out(product: Product, images: list[Image]) -> MainPicture | None:
    original = next((i for i in images if i.image_id == product.chosen_main_image_id), None)
    if not product.main_picture_key or original is None:
        return None
    about = product.main_picture or {}
    return MainPicture(
        url=blobs.download_link(product.main_picture_key),
        original_url=blobs.download_link(original.original_key),
        image_id=original.image_id,
        reason=Reason(**(product.main_choice or {"code": "UNKNOWN", "message": ""})),
        provider=str(about.get("provider", "")),
        model=str(about.get("model", "")),
        fallback=_fallback(about.get("fallback_from")),
    )


def _fallback(fallback_from: list[str] | None) -> Reason | None:
    if not fallback_from:
        return None
    provider, cause = fallback_from
    return Reason(
        code="BACKGROUND_FALLBACK",
        message=f"{provider} could not cut this photo out ({cause}); the local remover did",
        params={"provider": provider, "cause": cause},
    )


def _image_out(image: Image, main_id: str | None, form: UploadForm | None) -> ImageOut:
    return ImageOut(
        image_id=image.image_id,
        position=int(image.position),
        status=image.status,  # type: ignore[arg-type]
        file_name=image.file_name,
        is_main=image.image_id == main_id,
        format=image.format,
        width=_whole(image.width),
        height=_whole(image.height),
        bytes=_whole(image.bytes),
        rejection=Reason(**image.rejection) if image.rejection else None,
        quality=PhotoQuality(**image.quality) if image.quality else None,
        url=blobs.download_link(image.original_key) if image.status == "accepted" else None,
        thumbnail_url=blobs.download_link(image.thumbnail_key) if image.thumbnail_key else None,
        upload=form,
    )


def _whole(number: float | None) -> int | None:
    return None if number is None else int(number)


# -- changing ----------------------------------------------------------------------------------------


def create(user_id: str, new: NewProduct) -> ProductOut:
    _check_limits([], new.images)
    now = clock.now()
    product = Product(
        user_id=user_id,
        product_id=clock.new_id(),
        status=ProductStatus.UPLOADING.value,
        status_sort=f"{ProductStatus.UPLOADING.value}#",
        prompt=new.prompt,
        search_text=search_text(new.prompt),
        revision=1,
        created_at=now,
        updated_at=now,
    )
    product.status_sort = f"{product.status}#{product.product_id}"
    images, forms = _declare_images(product, new.images, first_position=0)
    product.save(condition=Product.product_id.does_not_exist())
    timeline.record(
        product.product_id,
        "upload",
        "WAITING_FOR_PHOTOS",
        f"waiting for {len(images)} photo(s) to arrive",
        {"count": len(images)},
        percent=0,
    )
    return product_out(product, images, upload_forms=forms)


def add_images(user_id: str, product_id: str, new: NewImages) -> ProductOut:
    product = owned(user_id, product_id)
    kept = [image for image in pipeline.images_of(product_id) if image.status != "rejected"]
    _check_limits(kept, new.images)
    first = max((int(image.position) for image in kept), default=-1) + 1
    _new_revision(product, uploading=True)
    images, forms = _declare_images(product, new.images, first_position=first)
    timeline.record(
        product_id,
        "upload",
        "WAITING_FOR_PHOTOS",
        f"waiting for {len(images)} new photo(s)",
        {"count": len(images)},
    )
    return product_out(product, pipeline.images_of(product_id), upload_forms=forms)


def delete_image(user_id: str, product_id: str, image_id: str) -> ProductOut:
    product = owned(user_id, product_id)
    image = _image_of(product, image_id)
    changes = [Product.main_image_id.remove()] if product.main_image_id == image_id else []
    _new_revision(product, extra=changes)
    blobs.delete(image.original_key)
    image.delete()
    return _after_edit(product, "PHOTO_REMOVED", f"photo {image.file_name} removed", image.file_name)


def reorder_images(user_id: str, product_id: str, order: ImageOrder) -> ProductOut:
    product = owned(user_id, product_id)
    images = {i.image_id: i for i in pipeline.images_of(product_id) if i.status != "rejected"}
    if sorted(order.image_ids) != sorted(images):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "image_ids: list every photo of the product exactly once",
            {"field": "image_ids", "expected": sorted(images)},
        )
    _new_revision(product)
    for position, image_id in enumerate(order.image_ids):
        images[image_id].update(actions=[Image.position.set(position)])
    return _after_edit(product, "PHOTOS_REORDERED", "photos reordered")


def choose_main_image(user_id: str, product_id: str, image_id: str) -> ProductOut:
    product = owned(user_id, product_id)
    image = _image_of(product, image_id)
    if image.status == "rejected":
        raise ApiError(
            409, "IMAGE_REJECTED", "a rejected photo cannot be the main picture", {"image_id": image_id}
        )
    _new_revision(product, extra=[Product.main_image_id.set(image_id)])
    return _after_edit(
        product, "MAIN_PHOTO_CHOSEN", f"{image.file_name} is now the main photo", image.file_name
    )


def delete(user_id: str, product_id: str) -> None:
    product = owned(user_id, product_id)
    blobs.delete_prefixes(product_prefixes(user_id, product_id))
    with Image.batch_write() as batch:
        for image in pipeline.images_of(product_id):
            batch.delete(image)
    timeline.forget(product_id)
    product.delete()


def _after_edit(product: Product, code: str, message: str, file_name: str | None = None) -> ProductOut:
    """Say what changed on the timeline, let the pipeline take the new revision, answer the product."""
    timeline.record(product.product_id, "edit", code, message, {"file_name": file_name} if file_name else {})
    pipeline.advance(product)
    return get(product.user_id, product.product_id)


# -- helpers -----------------------------------------------------------------------------------------


def _check_limits(kept: list[Image], declared: list[DeclaredImage]) -> None:
    problem = check_new_images([_size(image) for image in kept], [d.size for d in declared])
    if problem is not None:
        raise _limit_error(problem)


def _size(image: Image) -> int:
    return int(image.bytes if image.bytes is not None else image.declared_bytes)


def _limit_error(problem: LimitProblem) -> ApiError:
    return ApiError(
        422,
        "VALIDATION_ERROR",
        problem.message,
        {"field": problem.field, "reason": problem.code, "limit": problem.limit, "actual": problem.actual},
    )


def _declare_images(
    product: Product, declared: list[DeclaredImage], first_position: int
) -> tuple[list[Image], dict[str, UploadForm]]:
    now = clock.now()
    images: list[Image] = []
    forms: dict[str, UploadForm] = {}
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
        forms[image_id] = UploadForm(**blobs.upload_form(key, item.content_type, item.size, now))
    with Image.batch_write() as batch:
        for image in images:
            batch.save(image)
    return images, forms


def _image_of(product: Product, image_id: str) -> Image:
    try:
        return Image.get(product.product_id, image_id, consistent_read=True)
    except DoesNotExist:
        raise ApiError(
            404, "IMAGE_NOT_FOUND", "no such photo in this product", {"image_id": image_id}
        ) from None


def _new_revision(product: Product, *, extra: list[Any] | None = None, uploading: bool = False) -> None:
    """Bump the revision (older in-flight work is then dropped when it lands); 409 on a lost race.

    The status moves to uploading when new photos are on their way; otherwise pipeline.advance
    decides what runs next for the new revision.
    """
    current = ProductStatus(product.status)
    if current is ProductStatus.PUBLISHING:
        raise ApiError(409, "PRODUCT_BUSY", "the product is being published; try again when it finishes")
    actions = [Product.revision.add(1), Product.updated_at.set(clock.now()), *(extra or [])]
    if uploading and current is not ProductStatus.UPLOADING:
        try:
            move(current, ProductStatus.UPLOADING)
        except IllegalTransition as error:
            raise ApiError(409, "PRODUCT_BUSY", str(error)) from None
        actions += pipeline.status_actions(product, ProductStatus.UPLOADING)
    _update_or_conflict(product, actions)


def _update_or_conflict(model: Model, actions: list[Any]) -> None:
    try:
        model.update(actions=actions)  # VersionAttribute: fails if someone changed it since we read it
    except (UpdateError, PutError) as error:
        if "ConditionalCheckFailed" in str(error):
            raise ApiError(
                409, "CONFLICT", "the product changed while you edited it; reload and try again"
            ) from None
        raise
