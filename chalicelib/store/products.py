"""Products, their photos, listing versions and timelines in DynamoDB, as records.

Every product write is optimistic: the row's version must be the one the record was read at, so a
check made on a record in Python still holds when the write lands. `Products.update` is the one
place that reads again and decides again when another writer got there first.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import fields as record_fields
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib import clock
from chalicelib.domain.confidence import GREEN_ABOVE, RED_BELOW, Band
from chalicelib.domain.errors import ChangedMeanwhile, Invalid
from chalicelib.domain.jobs import Approval, Job, PublishJob
from chalicelib.domain.product import WORKING_STATES, ProductStatus
from chalicelib.domain.records import Event, Image, ListingVersion, Product
from chalicelib.domain.search import fold, search_text
from chalicelib.observability import logger
from chalicelib.store.models import EventRow, ImageRow, ListingVersionRow, ProductRow

Changes = dict[str, Any]


def lost_race(error: PutError | UpdateError | DeleteError) -> bool:
    """The write's condition did not hold (someone else wrote first), as opposed to any other failure."""
    return error.cause_response_code == "ConditionalCheckFailedException"


# -- products ------------------------------------------------------------------------------------------


def _product(row: ProductRow) -> Product:
    return Product(
        user_id=row.user_id,
        product_id=row.product_id,
        status=ProductStatus(row.status),
        prompt=row.prompt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=int(row.revision),
        images_job_revision=int(row.images_job_revision),
        main_image_id=row.main_image_id,
        chosen_main_image_id=row.chosen_main_image_id,
        main_choice=row.main_choice,
        main_picture_key=row.main_picture_key,
        main_picture=row.main_picture,
        pictures_revision=int(row.pictures_revision),
        thumbnail_key=row.thumbnail_key,
        current_version=int(row.current_version),
        title=row.title,
        confidence=None if row.confidence is None else float(row.confidence),
        paused=bool(row.paused),
        approval=Approval.from_json(row.approval) if row.approval else None,
        publish_attempts=int(row.publish_attempts),
        item=row.item,
        attention=row.attention,
        row_version=row.version,
    )


_PRODUCT_FIELDS = {f.name for f in record_fields(Product)} - {"user_id", "product_id", "row_version"}


def _stored(name: str, value: Any) -> Any:
    if isinstance(value, ProductStatus):
        return value.value
    if isinstance(value, Approval):
        return value.to_json()
    return value


class Products:
    def get(self, user_id: str, product_id: str) -> Product | None:
        try:
            return _product(ProductRow.get(user_id, product_id, consistent_read=True))
        except DoesNotExist:
            return None

    def add(self, product: Product) -> Product:
        row = ProductRow(
            user_id=product.user_id,
            product_id=product.product_id,
            status_sort=f"{product.status.value}#{product.product_id}",
            working=product.status.value if product.status in WORKING_STATES else None,
            search_text=search_text(product.prompt, product.title),
            **{name: _stored(name, getattr(product, name)) for name in _PRODUCT_FIELDS},
        )
        row.save(condition=ProductRow.product_id.does_not_exist())
        return _product(row)

    def change(self, product: Product, **changes: Any) -> Product:
        """Write `changes` if nobody wrote the product since `product` was read; else ChangedMeanwhile."""
        row = ProductRow(product.user_id, product.product_id)
        row.version = product.row_version
        try:
            row.update(actions=self._actions(product, changes))
        except UpdateError as error:
            if lost_race(error):
                raise ChangedMeanwhile() from None
            raise
        return _product(row)

    def update(self, product: Product, change: Callable[[Product], Changes | None]) -> Product | None:
        """Write what `change(product)` asks for. When another writer got there first, read the product
        again and ask `change` again: it decides on what is there now, and answers None when the work
        no longer applies. Returns the product as written, or None when nothing was written."""
        current: Product | None = product
        while current is not None:
            changes = change(current)
            if changes is None:
                return None
            try:
                return self.change(current, **changes)
            except ChangedMeanwhile:
                current = self.get(product.user_id, product.product_id)
        return None

    def _actions(self, product: Product, changes: Changes) -> list[Any]:
        unknown = set(changes) - _PRODUCT_FIELDS
        if unknown:
            raise ValueError(f"not product fields: {sorted(unknown)}")
        actions = []
        for name, value in changes.items():
            attribute = getattr(ProductRow, name)
            actions.append(attribute.remove() if value is None else attribute.set(_stored(name, value)))
        if "status" in changes:
            status = changes["status"]
            actions.append(ProductRow.status_sort.set(f"{status.value}#{product.product_id}"))
            working = ProductRow.working
            actions.append(working.set(status.value) if status in WORKING_STATES else working.remove())
        if "prompt" in changes or "title" in changes:
            text = search_text(changes.get("prompt", product.prompt), changes.get("title", product.title))
            actions.append(ProductRow.search_text.set(text))
        if "updated_at" not in changes:
            actions.append(ProductRow.updated_at.set(clock.now()))
        return actions

    def idle_since(self, status: ProductStatus, before: datetime) -> Iterator[Product]:
        """Products in the working `status` that have not changed since `before` (every seller's)."""
        for row in ProductRow.in_progress.query(status.value, ProductRow.updated_at < before):
            yield _product(row)

    def delete(self, product: Product) -> None:
        row = ProductRow(product.user_id, product.product_id)
        row.version = product.row_version
        try:
            row.delete()
        except DeleteError as error:
            if lost_race(error):
                raise ChangedMeanwhile() from None
            raise

    def for_job(self, job: Job, key: str) -> Product | None:
        """The product a step's job is for, or None when the job no longer applies (said in the log)."""
        product = self.get(job.user_id, job.product_id)
        if product is None:
            logger.info("job dropped: the product is gone", extra={"key": key})
            return None
        if isinstance(job, PublishJob):
            if product.status is ProductStatus.PUBLISHED:
                logger.info("publish job already done; duplicate delivery", extra={"key": key})
                return None
            if product.approval is None or product.publish_attempts != job.attempt:
                # Another approval (a newer price, a retry) took over: its own job publishes it.
                logger.info("publish job dropped: not the latest approval", extra={"key": key})
                return None
            if product.status not in (ProductStatus.PUBLISHING, ProductStatus.FAILED):
                # The seller moved on (edited the listing after a failed run): a late copy publishes nothing.
                logger.info("publish job dropped: not publishing now", extra={"key": key})
                return None
            # A failed product's publish job is still the approved one: a redelivery goes on.
            return product
        if product.revision != job.revision:
            logger.info("job dropped: stale revision", extra={"key": key, "current": product.revision})
            return None
        if product.status is ProductStatus.FAILED:
            # failed only moves on by the seller's retry (failed -> processing), which writes a job of its
            # own: a late or redelivered copy would be an illegal failed -> ready (or failed -> failed).
            logger.info("job dropped: the product failed; it waits for a retry", extra={"key": key})
            return None
        return product

    def page(
        self,
        user_id: str,
        *,
        limit: int,
        status: ProductStatus | None = None,
        band: Band | None = None,
        text: str | None = None,
        cursor: str | None = None,
    ) -> tuple[list[Product], str | None]:
        """The seller's products, newest first: one page, and the cursor of the next one if any."""
        start = _decode_cursor(cursor)
        condition = None
        if text:
            condition = ProductRow.search_text.contains(fold(text))
        if band:
            by_band = _band_condition(band)
            condition = by_band if condition is None else condition & by_band
        results: Iterator[ProductRow]
        # One page and the item that says another exists; with a filter DynamoDB counts the items it
        # read, not the ones kept, so let it read whole pages then.
        page_size = limit + 1 if condition is None else None
        if status:
            results = ProductRow.by_status.query(
                user_id,
                ProductRow.status_sort.startswith(f"{status.value}#"),
                scan_index_forward=False,
                filter_condition=condition,
                last_evaluated_key=_index_key(user_id, start) if start else None,
                page_size=page_size,
            )
        else:
            results = ProductRow.query(
                user_id,
                scan_index_forward=False,
                filter_condition=condition,
                last_evaluated_key=_table_key(user_id, start) if start else None,
                page_size=page_size,
            )
        rows: list[ProductRow] = []
        more = False
        for row in results:
            if len(rows) == limit:
                more = True
                break
            rows.append(row)
        return [_product(row) for row in rows], _encode_cursor(rows[-1]) if more else None


def _band_condition(wanted: Band) -> Any:
    if wanted is Band.GREEN:
        return ProductRow.confidence > GREEN_ABOVE
    if wanted is Band.RED:
        return ProductRow.confidence < RED_BELOW
    return ProductRow.confidence.between(RED_BELOW, GREEN_ABOVE)


def _encode_cursor(row: ProductRow) -> str:
    raw = json.dumps({"p": row.product_id, "s": row.status_sort}).encode()
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
    raise Invalid("VALIDATION_ERROR", "next: not a cursor this API gave out", {"field": "next"})


def _table_key(user_id: str, start: dict[str, str]) -> dict[str, Any]:
    # The caller's own user id, never one from the cursor: a cursor cannot reach another seller.
    return {"user_id": {"S": user_id}, "product_id": {"S": start["p"]}}


def _index_key(user_id: str, start: dict[str, str]) -> dict[str, Any]:
    return {**_table_key(user_id, start), "status_sort": {"S": start["s"]}}


# -- photos --------------------------------------------------------------------------------------------

_IMAGE_NUMBERS = ("position", "declared_bytes", "bytes", "width", "height", "orientation")


def _image(row: ImageRow) -> Image:
    values = {f.name: getattr(row, f.name) for f in record_fields(Image)}
    for name in _IMAGE_NUMBERS:
        if values[name] is not None:
            values[name] = int(values[name])
    return Image(**values)


class Images:
    def of(self, product_id: str) -> list[Image]:
        """The product's photos in the seller's order."""
        rows = ImageRow.query(product_id, consistent_read=True)
        return sorted((_image(row) for row in rows), key=lambda image: image.position)

    def get(self, product_id: str, image_id: str) -> Image | None:
        try:
            return _image(ImageRow.get(product_id, image_id, consistent_read=True))
        except DoesNotExist:
            return None

    def add(self, images: list[Image]) -> None:
        with ImageRow.batch_write() as batch:
            for image in images:
                batch.save(ImageRow(**{f.name: getattr(image, f.name) for f in record_fields(Image)}))

    def update(
        self, product_id: str, image_id: str, *, only_if: dict[str, Any] | None = None, **changes: Any
    ) -> Image | None:
        """Write `changes` while the photo exists (and its fields still hold the values in `only_if`);
        None when it does not: a photo the seller removed meanwhile is never brought back, and of two
        deliveries judging one upload only the first writes."""
        row = ImageRow(product_id, image_id)
        condition = ImageRow.image_id.exists()
        for name, value in (only_if or {}).items():
            attribute = getattr(ImageRow, name)
            condition &= attribute.does_not_exist() if value is None else attribute == value
        actions = [
            getattr(ImageRow, name).remove() if value is None else getattr(ImageRow, name).set(value)
            for name, value in changes.items()
        ]
        try:
            row.update(actions=actions, condition=condition)
        except UpdateError as error:
            if lost_race(error):
                return None
            raise
        return _image(row)

    def delete(self, image: Image) -> None:
        ImageRow(image.product_id, image.image_id).delete()

    def delete_all(self, product_id: str) -> None:
        with ImageRow.batch_write() as batch:
            for row in ImageRow.query(product_id):
                batch.delete(row)


# -- listing versions ----------------------------------------------------------------------------------


def _version(row: ListingVersionRow) -> ListingVersion:
    values = {f.name: getattr(row, f.name) for f in record_fields(ListingVersion)}
    values["version"], values["revision"] = int(row.version), int(row.revision)
    return ListingVersion(**values)


class ListingVersions:
    def get(self, product_id: str, version: int) -> ListingVersion | None:
        try:
            return _version(ListingVersionRow.get(product_id, version, consistent_read=True))
        except DoesNotExist:
            return None

    def of(self, product_id: str) -> list[ListingVersion]:
        """Every version, newest first."""
        rows = ListingVersionRow.query(product_id, scan_index_forward=False, consistent_read=True)
        return [_version(row) for row in rows]

    def generated_for(self, product_id: str, revision: int) -> list[ListingVersion]:
        """The versions the pipeline generated from `revision`, oldest first."""
        return sorted(
            (v for v in self.of(product_id) if v.revision == revision and v.source == "generated"),
            key=lambda v: v.version,
        )

    def latest_number(self, product_id: str) -> int:
        rows = ListingVersionRow.query(product_id, scan_index_forward=False, limit=1, consistent_read=True)
        latest = next(iter(rows), None)
        return int(latest.version) if latest is not None else 0

    def add(self, version: ListingVersion) -> ListingVersion | None:
        """Saved as the product's next version number; None when another writer took that number."""
        number = self.latest_number(version.product_id) + 1
        values = {f.name: getattr(version, f.name) for f in record_fields(ListingVersion)}
        row = ListingVersionRow(**{**values, "version": number})
        try:
            row.save(condition=ListingVersionRow.version.does_not_exist())
        except PutError as error:
            if lost_race(error):
                return None
            raise
        return _version(row)

    def delete(self, version: ListingVersion) -> None:
        ListingVersionRow(version.product_id, version.version).delete()


# -- the timeline --------------------------------------------------------------------------------------


class Events:
    def add(self, product_id: str, event: Event) -> None:
        EventRow(
            product_id=product_id,
            at=event.at,
            stage=event.stage,
            code=event.code,
            message=event.message,
            params=event.params,
            percent=event.percent,
        ).save()

    def of(self, product_id: str, after: str | None = None, limit: int = 100) -> list[Event]:
        condition = EventRow.at > after if after else None
        return [
            Event(
                at=row.at,
                stage=row.stage,
                code=row.code,
                message=row.message,
                params=row.params or {},
                percent=None if row.percent is None else int(row.percent),
            )
            for row in EventRow.query(product_id, condition, limit=limit)
        ]

    def forget(self, product_id: str) -> None:
        with EventRow.batch_write() as batch:
            for row in EventRow.query(product_id):
                batch.delete(row)
