"""DynamoDB tables as PynamoDB models: the one source of truth for keys and indexes.

The local provisioner and the Terraform test both read `ALL_MODELS`, so a table is declared once.
Table names come from the stage's environment (`.chalice/config.json`). `Meta.host` stays unset so
`AWS_ENDPOINT_URL` decides where the tables live (emulator or AWS).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import required


class ProductsByStatus(GlobalSecondaryIndex["Product"]):  # type: ignore[no-untyped-call]
    """A seller's products in one status, newest first (product ids sort by creation time)."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    status_sort = UnicodeAttribute(range_key=True)


class Product(Model):
    class Meta:
        table_name = required("PRODUCTS_TABLE")

    user_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    status_sort = UnicodeAttribute()  # "{status}#{product_id}", for ProductsByStatus
    prompt = UnicodeAttribute()
    revision = NumberAttribute(default=1)
    image_count = NumberAttribute(default=0)
    main_image_id = UnicodeAttribute(null=True)
    last_error = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_status = ProductsByStatus()


class Image(Model):
    class Meta:
        table_name = required("IMAGES_TABLE")

    product_id = UnicodeAttribute(hash_key=True)
    image_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    original_key = UnicodeAttribute()
    status = UnicodeAttribute()  # declared | accepted | rejected
    position = NumberAttribute()
    is_main = BooleanAttribute(default=False)
    declared_content_type = UnicodeAttribute()
    declared_bytes = NumberAttribute()
    format = UnicodeAttribute(null=True)
    bytes = NumberAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    rejection = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ProductEvent(Model):
    """The progress timeline the panel polls: one row per step a seller can understand."""

    class Meta:
        table_name = required("PRODUCT_EVENTS_TABLE")

    product_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # ISO-8601 time + sequence, sortable
    stage = UnicodeAttribute()
    message = UnicodeAttribute()
    percent = NumberAttribute(null=True)
    details = ListAttribute[str](null=True)


ALL_MODELS: tuple[type[Model], ...] = (Product, Image, ProductEvent)
