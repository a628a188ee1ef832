"""DynamoDB tables as PynamoDB models: the one source of truth for keys and indexes.

The local provisioner and the Terraform test both read `ALL_MODELS`, so a table is declared once.
Table names come from the stage's environment (`.chalice/config.json`). `Meta.host` stays unset so
`AWS_ENDPOINT_URL` decides where the tables live (emulator or AWS). Every read a seller can cause
is keyed by `user_id` (or by a product already loaded through it).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import required
from chalicelib.store.aws import get_dynamodb


class Row(Model):
    """A table's model: its connection uses the process's one DynamoDB client (chalicelib.store.aws)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if table.connection._client is None:
            table.connection._client = get_dynamodb().client
        return table


# -- accounts ------------------------------------------------------------------------------------


class UserRow(Row):
    class Meta:
        table_name = required("USERS_TABLE")

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # Settings: what happens when a listing is ready.
    auto_publish = BooleanAttribute(default=False)
    publish_threshold = NumberAttribute(default=0.9)
    site = UnicodeAttribute(default="MLA")
    listing_type = UnicodeAttribute(default="gold_special")
    default_quantity = NumberAttribute(null=True)  # for auto-publish when the prompt says none


class UserEmailRow(Row):
    """Who owns an email: a conditional put here is what makes emails unique (a GSI cannot)."""

    class Meta:
        table_name = required("USER_EMAILS_TABLE")

    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SessionRow(Row):
    """One login: the current refresh token's hash, and the hashes of the tokens it rotated out."""

    class Meta:
        table_name = required("SESSIONS_TABLE")

    session_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    used_hashes = JSONAttribute(default=list)  # rotated-out tokens, oldest first (the last few)
    rotated_at = NumberAttribute(default=0)  # epoch seconds of the last rotation
    generation = NumberAttribute(default=1)
    revoked = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table TTL deletes the row


class RateLimitRow(Row):
    """Failures counted per subject (such as `login:<email>`), shared by every Lambda instance."""

    class Meta:
        table_name = required("RATE_LIMITS_TABLE")

    subject = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    window_started = NumberAttribute()
    locked_until = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds; the table TTL deletes the row


# -- MercadoLibre ---------------------------------------------------------------------------------


class MarketplaceAccountRow(Row):
    """A seller's connected MercadoLibre account. Tokens are sealed (chalicelib.auth.sealing)."""

    class Meta:
        table_name = required("MARKETPLACE_ACCOUNTS_TABLE")

    user_id = UnicodeAttribute(hash_key=True)
    ml_user_id = NumberAttribute()
    nickname = UnicodeAttribute()
    site = UnicodeAttribute()
    access_token = UnicodeAttribute()  # sealed
    refresh_token = UnicodeAttribute()  # sealed
    access_expires_at = NumberAttribute()  # epoch seconds
    status = UnicodeAttribute(default="connected")  # connected | disconnected
    problem = JSONAttribute(null=True)  # {code, message} when MercadoLibre refused the tokens
    connected_at = UTCDateTimeAttribute()
    user_products = BooleanAttribute(default=False)  # tagged user_product_seller when connected
    # The refresh lease: one holder spends the single-use refresh token; the others wait for it.
    lease_until = NumberAttribute(default=0)
    lease_owner = UnicodeAttribute(null=True)


class PendingConnectionRow(Row):
    """An authorization in progress: the single-use `state` and the PKCE verifier, for 10 minutes."""

    class Meta:
        table_name = required("PENDING_CONNECTIONS_TABLE")

    state = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    code_verifier = UnicodeAttribute()
    site = UnicodeAttribute()
    browser_hash = UnicodeAttribute()  # sha256 of the nonce in the starting browser's cookie
    expires_at = NumberAttribute()  # epoch seconds; the table TTL deletes the row


class MarketplaceCacheRow(Row):
    """MercadoLibre's category answers, kept for a day (the table TTL expires them)."""

    class Meta:
        table_name = required("MARKETPLACE_CACHE_TABLE")

    key = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute()  # JSON
    expires_at = NumberAttribute()


# -- products ------------------------------------------------------------------------------------


class ProductsByStatus(GlobalSecondaryIndex["ProductRow"]):  # type: ignore[no-untyped-call]
    """A seller's products in one status, newest first (product ids sort by creation time)."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    status_sort = UnicodeAttribute(range_key=True)


class ProductsInProgress(GlobalSecondaryIndex["ProductRow"]):  # type: ignore[no-untyped-call]
    """Products in a working state by when they last changed: what the watchdog looks at. Sparse: a
    product leaves it when it is ready, published or failed (`working` is removed)."""

    class Meta:
        index_name = "in-progress"
        projection = AllProjection()

    working = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class ProductRow(Row):
    class Meta:
        table_name = required("PRODUCTS_TABLE")

    user_id = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    status_sort = UnicodeAttribute()  # "{status}#{product_id}", for ProductsByStatus
    working = UnicodeAttribute(null=True)  # the status while it is a working one, for ProductsInProgress
    prompt = UnicodeAttribute()
    search_text = UnicodeAttribute()  # prompt and title, folded for accent-free search
    revision = NumberAttribute(default=1)
    # The last revision whose images job was written: the claim that makes that write happen once.
    images_job_revision = NumberAttribute(default=0)
    main_image_id = UnicodeAttribute(null=True)  # the seller's explicit choice, if any
    # What the images step made of the current revision: the chosen photo and why, the picture.
    chosen_main_image_id = UnicodeAttribute(null=True)
    main_choice = JSONAttribute(null=True)  # {code, message}
    main_picture_key = UnicodeAttribute(null=True)
    # {provider, model, milliseconds, uncertainty, fallback_from: [remover, failure code] | None}
    main_picture = JSONAttribute(null=True)
    pictures_revision = NumberAttribute(default=0)  # the revision those belong to
    current_version = NumberAttribute(default=0)  # the listing version the seller sees (0: none yet)
    paused = BooleanAttribute(default=False)  # the seller is making several changes: hold the pipeline
    approval = JSONAttribute(
        null=True
    )  # {version, by, at, price, currency, quantity, listing_type, condition}
    publish_attempts = NumberAttribute(default=0)
    item = JSONAttribute(null=True)  # MercadoLibre's item: {id, permalink, status, published_at}
    title = UnicodeAttribute(null=True)
    confidence = NumberAttribute(null=True)
    thumbnail_key = UnicodeAttribute(null=True)
    attention = JSONAttribute(null=True)  # {code, message, params}: what the seller must do now
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_status = ProductsByStatus()
    in_progress = ProductsInProgress()


class ImageRow(Row):
    class Meta:
        table_name = required("IMAGES_TABLE")

    product_id = UnicodeAttribute(hash_key=True)
    image_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    original_key = UnicodeAttribute()
    status = UnicodeAttribute()  # declared | accepted | rejected
    position = NumberAttribute()
    file_name = UnicodeAttribute()
    declared_content_type = UnicodeAttribute()
    declared_bytes = NumberAttribute()
    format = UnicodeAttribute(null=True)
    bytes = NumberAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    orientation = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    etag = UnicodeAttribute(null=True)  # of the bytes judged at intake
    rejection = JSONAttribute(null=True)  # {code, message, params}
    quality = JSONAttribute(null=True)  # {score, parts, findings: [{code, message}]}
    thumbnail_key = UnicodeAttribute(null=True)
    processing = JSONAttribute(null=True)  # {scoring_milliseconds, main_picture: {provider, model, ...}}
    created_at = UTCDateTimeAttribute()
    received_at = UTCDateTimeAttribute(null=True)


class ListingVersionRow(Row):
    """One version of a product's listing: generated by the pipeline, or saved by the seller."""

    class Meta:
        table_name = required("LISTING_VERSIONS_TABLE")

    product_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    revision = NumberAttribute()  # the product revision it was made from
    source = UnicodeAttribute()  # generated | seller | restored
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    category = JSONAttribute()  # {id, name, path, title_limit}
    category_alternatives = JSONAttribute(default=list)  # [{id, name, path}]
    other_titles = JSONAttribute(default=list)  # titles the seller may choose instead
    attributes = JSONAttribute(default=list)  # [{id, name, value_id, value_name, source, confidence}]
    missing_required = JSONAttribute(default=list)  # attribute ids
    condition = UnicodeAttribute(null=True)  # new | used
    facts = JSONAttribute(default=dict)
    confidence = JSONAttribute()  # {overall, parts, reasons}
    edited = JSONAttribute(default=list)  # the fields the seller edited, kept by regenerations
    main_picture_key = UnicodeAttribute(null=True)
    usage = JSONAttribute(
        default=dict
    )  # {provider, model, input_tokens, output_tokens, cost_usd, milliseconds}
    created_at = UTCDateTimeAttribute()


class EventRow(Row):
    """The progress timeline the panel polls: one row per step a seller can understand."""

    class Meta:
        table_name = required("PRODUCT_EVENTS_TABLE")

    product_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # ISO-8601 time + a random suffix: sortable, unique
    stage = UnicodeAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()
    params = JSONAttribute(null=True)
    percent = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds; the table TTL deletes the row


ALL_MODELS: tuple[type[Model], ...] = (
    UserRow,
    UserEmailRow,
    SessionRow,
    RateLimitRow,
    MarketplaceAccountRow,
    PendingConnectionRow,
    MarketplaceCacheRow,
    ProductRow,
    ImageRow,
    ListingVersionRow,
    EventRow,
)
