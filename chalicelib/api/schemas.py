"""The API's request and response bodies: validated at the edge, and the source of the OpenAPI document.

Single-field limits come from chalicelib.domain.limits so the API, ingest and the panel agree.
Unknown fields are refused (`extra="forbid"`), so a typo never silently does nothing.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.domain.confidence import Band
from chalicelib.domain.limits import CONTENT_TYPES, MAX_IMAGE_BYTES, MAX_IMAGES, PROMPT_MAX_CHARS
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.sites import SITE_IDS

# MercadoLibre sites a seller can publish to: exactly the sites table's (chalicelib.domain.sites).
Site = Literal[SITE_IDS]  # type: ignore[valid-type]
ContentType = Literal["image/jpeg", "image/png"]
ListingType = Literal["gold_special", "gold_pro", "free"]
assert set(ContentType.__args__) == set(CONTENT_TYPES)  # type: ignore[attr-defined]

# No spaces and no control characters (a NUL or an escape is never part of an address).
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
Password = Annotated[str, Field(min_length=8, max_length=128)]


def _readable(value: Any) -> Any:
    """Control characters are never part of a seller's text: drop them (tabs and newlines stay)."""
    if isinstance(value, str):
        return "".join(c for c in value if c in "\t\n" or unicodedata.category(c) != "Cc").strip()
    return value


Prompt = Annotated[
    str,
    BeforeValidator(_readable),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=PROMPT_MAX_CHARS),
]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- accounts --------------------------------------------------------------------------------------


class Credentials(Body):
    email: Email
    password: Password


class RefreshRequest(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class SettingsUpdate(Body):
    auto_publish: bool | None = None
    publish_threshold: Annotated[float, Field(ge=0.5, le=1.0)] | None = None
    site: Site | None = None
    listing_type: ListingType | None = None
    default_quantity: Annotated[int, Field(ge=1, le=99_999)] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> SettingsUpdate:
        if all(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("send at least one setting to change")
        return self


class SettingsOut(BaseModel):
    auto_publish: bool
    publish_threshold: float
    site: str
    listing_type: str
    default_quantity: int | None = None


class UserOut(BaseModel):
    user_id: str
    email: str
    created_at: datetime
    settings: SettingsOut


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int
    user: UserOut


# -- MercadoLibre ----------------------------------------------------------------------------------


class ConnectOut(BaseModel):
    """Open `authorization_url` in the browser; MercadoLibre sends the seller back to /ml/callback."""

    authorization_url: str
    expires_at: datetime


class MarketplaceAccountOut(BaseModel):
    ml_user_id: int
    nickname: str
    site: str
    status: Literal["connected", "disconnected"]
    valid: bool
    access_expires_at: datetime
    connected_at: datetime
    problem: dict[str, Any] | None = None
    # A User Products seller: MercadoLibre writes the title from the family name (our title).
    user_products: bool = False


# A page of the panel to come back to after connecting: a path on the panel's own origin, never an
# address elsewhere (no scheme, no "//host", no backslash, nothing the browser could read as a host).
RETURN_PATH = r"^/([A-Za-z0-9\-._~][A-Za-z0-9\-._~/]*)?(\?[A-Za-z0-9\-._~=&%]*)?$"


class ConnectStart(Body):
    return_to: Annotated[str, StringConstraints(max_length=300, pattern=RETURN_PATH)] | None = None


class ConnectCallback(Body):
    code: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    state: Annotated[str, Field(min_length=1, max_length=512)]
    error: Annotated[str, Field(max_length=200)] | None = None
    error_description: Annotated[str, Field(max_length=1000)] | None = None


class CategorySearch(Body):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    site: Site | None = None
    limit: Annotated[int, Field(ge=1, le=8)] = 5  # MercadoLibre's own cap


# -- products --------------------------------------------------------------------------------------


class DeclaredImage(Body):
    file_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    content_type: ContentType
    size: Annotated[int, Field(ge=1, le=MAX_IMAGE_BYTES)]


class NewProduct(Body):
    prompt: Prompt
    images: Annotated[list[DeclaredImage], Field(min_length=1, max_length=MAX_IMAGES)]


class NewImages(Body):
    images: Annotated[list[DeclaredImage], Field(min_length=1, max_length=MAX_IMAGES)]


class ImageOrder(Body):
    image_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IMAGES)]


class MainImageChoice(Body):
    image_id: Id


class ProductFilters(Body):
    status: ProductStatus | None = None
    confidence: Band | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    next: Annotated[str, Field(max_length=2048)] | None = None


class Reason(BaseModel):
    """Something a seller should know or do, with a stable code and the numbers behind it."""

    code: str
    message: str
    params: dict[str, Any] = {}


class UploadForm(BaseModel):
    """A presigned S3 POST: send `fields` plus the file (as `file`, last) to `url`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


class Finding(BaseModel):
    code: str
    message: str
    params: dict[str, Any] = {}


class PhotoQuality(BaseModel):
    """0-1 overall and per part (sharpness, exposure, resolution, framing), with reasons for low parts."""

    score: float
    parts: dict[str, float]
    findings: list[Finding]


class MainPicture(BaseModel):
    """The listing's main picture (after) next to the photo it was made from (before), and why that one."""

    url: str
    original_url: str
    image_id: str
    reason: Reason
    provider: str
    model: str
    # Set when the configured remover failed and the fallback made this picture (code BACKGROUND_FALLBACK).
    fallback: Reason | None = None


class ImageOut(BaseModel):
    image_id: str
    position: int
    status: Literal["declared", "accepted", "rejected"]
    file_name: str
    is_main: bool
    format: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    rejection: Reason | None = None
    quality: PhotoQuality | None = None
    url: str | None = None
    thumbnail_url: str | None = None
    upload: UploadForm | None = None


class EventOut(BaseModel):
    at: str
    stage: str
    code: str
    message: str
    params: dict[str, Any] = {}
    percent: int | None = None


class ItemOut(BaseModel):
    """The product's item as MercadoLibre shows it (read back when the product is opened, and on
    MercadoLibre's notifications): under review, `sub_status` says why."""

    id: str
    permalink: str | None = None
    title: str | None = None  # MercadoLibre's: for a User Products seller, written from the family name
    family_name: str | None = None
    status: str | None = None  # active | paused | closed | under_review | inactive ...
    sub_status: list[str] = []
    price: float | None = None
    available_quantity: int | None = None
    sold_quantity: int | None = None
    published_at: str | None = None
    checked_at: str | None = None


class ProductOut(BaseModel):
    product_id: str
    status: ProductStatus
    prompt: str
    revision: int
    title: str | None = None
    confidence: float | None = None
    confidence_band: Band | None = None
    thumbnail_url: str | None = None
    main_image_id: str | None = None
    main_picture: MainPicture | None = None
    current_version: int = 0
    paused: bool = False
    item: ItemOut | None = None  # on MercadoLibre
    attention: Reason | None = None
    created_at: datetime
    updated_at: datetime
    images: list[ImageOut] | None = None
    events: list[EventOut] | None = None


class ProductPage(BaseModel):
    items: list[ProductOut]
    next: str | None = None


# -- listings --------------------------------------------------------------------------------------


class ListingAttribute(BaseModel):
    id: str
    name: str
    value_id: str | None = None
    value_name: str | None = None
    source: str = "seller"
    confidence: float = 1.0


class AttributeValueIn(Body):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,64}$")]
    value_id: Annotated[str, Field(max_length=64)] | None = None
    value_name: Annotated[str, Field(max_length=255)] | None = None


class ListingEdit(Body):
    """Field-level edits; `version` is the one the seller was looking at (optimistic locking)."""

    version: Annotated[int, Field(ge=1)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        None
    )
    description: Annotated[str, Field(min_length=1, max_length=50_000)] | None = None
    category_id: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}\d{1,12}$")] | None = None
    attributes: Annotated[list[AttributeValueIn], Field(max_length=200)] | None = None
    condition: Literal["new", "used"] | None = None
    # Hand these fields back to the generator: the listing is written again without the seller's edits.
    reset: Annotated[
        list[Literal["title", "description", "category", "attributes", "condition"]], Field(max_length=5)
    ] = []


class PromptChange(Body):
    prompt: Prompt


class ListingConfidence(BaseModel):
    overall: float
    band: Band
    parts: dict[str, float]
    reasons: list[dict[str, Any]]


class ListingOut(BaseModel):
    version: int
    revision: int
    source: str
    title: str
    description: str
    category: dict[str, Any]
    category_alternatives: list[dict[str, Any]]
    other_titles: list[str]  # titles within the same rules the seller may choose instead
    attributes: list[ListingAttribute]
    missing_required: list[str]
    condition: str | None = None
    confidence: ListingConfidence
    edited: list[str]
    provider: str
    model: str
    created_at: datetime
    sheet: list[dict[str, Any]] | None = None  # the category's attributes, for the technical sheet


class ListingVersionSummary(BaseModel):
    version: int
    revision: int
    source: str
    title: str
    confidence: float
    edited: list[str]
    created_at: datetime
    current: bool


class ListingHistory(BaseModel):
    versions: list[ListingVersionSummary]


class PublishRequest(Body):
    price: Annotated[float, Field(gt=0, le=1_000_000_000)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None  # the site's by default
    quantity: Annotated[int, Field(ge=1, le=99_999)]
    listing_type: ListingType | None = None  # the seller's default from settings
    condition: Literal["new", "used"] | None = None


class ItemEdit(Body):
    """A published product's item: a new price or stock, or its status (pause, reactivate, close)."""

    price: Annotated[float, Field(gt=0, le=1_000_000_000)] | None = None
    quantity: Annotated[int, Field(ge=0, le=99_999)] | None = None
    status: Literal["active", "paused", "closed"] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ItemEdit:
        if all(getattr(self, name) is None for name in ("price", "quantity", "status")):
            raise ValueError("send the price, the quantity or the status")
        return self


class DeleteProductQuery(Body):
    # Listed on MercadoLibre: close the item there first, or keep it (the API asks when neither).
    item: Literal["close", "keep"] | None = None


class Notification(BaseModel):
    """What MercadoLibre POSTs to the notifications URL (productos-recibe-notificaciones); fields it
    may add are let through."""

    model_config = ConfigDict(extra="ignore")

    resource: Annotated[str, Field(max_length=500)]
    user_id: int | str
    topic: Annotated[str, Field(max_length=100)]
    application_id: int | str
    attempts: int | None = None
    sent: str | None = None
    received: str | None = None


class NotificationOut(BaseModel):
    outcome: Literal["refreshed", "ignored"]
    reason: str | None = None


class EventsQuery(Body):
    after: Annotated[str, Field(max_length=100)] | None = None


class EventsOut(BaseModel):
    events: list[EventOut]
    status: ProductStatus


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]
    request_id: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str
    stage: str


class DetailedHealthOut(HealthOut):
    tables: dict[str, dict[str, Any]]
    buckets: dict[str, dict[str, Any]]
    providers: dict[str, str]
