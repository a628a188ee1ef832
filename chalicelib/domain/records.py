"""What the store keeps, as plain records: services read and return these, never database rows.

chalicelib.store maps each record to its DynamoDB table and back; nothing else knows the tables.
Records are immutable: a change goes through the store, which answers with the record as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.jobs import Approval
from chalicelib.domain.product import ProductStatus

# -- sellers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seller:
    user_id: str
    email: str
    password_hash: str
    created_at: datetime
    # What happens when a listing is ready.
    auto_publish: bool = False
    publish_threshold: float = 0.9
    site: str = "MLA"
    listing_type: str = "gold_special"
    default_quantity: int | None = None  # for auto-publish when the prompt says none


@dataclass(frozen=True)
class Session:
    """One login: the current refresh token's hash, and the hashes of the tokens it rotated out."""

    session_id: str
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: int  # epoch seconds
    used_hashes: list[str] = field(default_factory=list)  # oldest first, the last few
    rotated_at: float = 0  # epoch seconds of the last rotation
    generation: int = 1
    revoked: bool = False


@dataclass(frozen=True)
class LoginFailures:
    """Failed logins counted per subject (such as `login:<email>`)."""

    subject: str
    failures: int
    window_started: float
    locked_until: float = 0


# -- MercadoLibre ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketplaceAccount:
    """A seller's connected MercadoLibre account; the tokens are sealed (chalicelib.auth.sealing)."""

    user_id: str
    ml_user_id: int
    nickname: str
    site: str
    access_token: str  # sealed
    refresh_token: str  # sealed
    access_expires_at: int  # epoch seconds
    connected_at: datetime
    status: str = "connected"  # connected | disconnected
    problem: dict[str, Any] | None = None  # {code, message} when MercadoLibre refused the tokens
    # Tagged `user_product_seller` on /users/me when connected: lists with family_name, never a title.
    user_products: bool = False


@dataclass(frozen=True)
class PendingConnection:
    """An authorization in progress: the single-use `state`, the PKCE verifier, and the hash of the
    nonce the browser that started it holds in a cookie (so only that browser can finish it)."""

    state: str
    user_id: str
    code_verifier: str
    site: str
    expires_at: int  # epoch seconds
    browser_hash: str


# -- products --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    user_id: str
    product_id: str
    status: ProductStatus
    prompt: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    # The last revision whose images job was written: the claim that makes that write happen once.
    images_job_revision: int = 0
    main_image_id: str | None = None  # the seller's explicit choice, if any
    # What the images step made of the revision `pictures_revision`: the chosen photo and why, the picture.
    chosen_main_image_id: str | None = None
    main_choice: dict[str, Any] | None = None  # {code, message}
    main_picture_key: str | None = None
    # {provider, model, milliseconds, uncertainty, fallback_from: [remover, failure code] | None}
    main_picture: dict[str, Any] | None = None
    pictures_revision: int = 0
    thumbnail_key: str | None = None
    current_version: int = 0  # the listing version the seller sees (0: none yet)
    title: str | None = None
    confidence: float | None = None
    paused: bool = False  # the seller is making several changes: hold the pipeline
    approval: Approval | None = None
    publish_attempts: int = 0
    item: dict[str, Any] | None = None  # MercadoLibre's item: {id, permalink, status, published_at}
    attention: dict[str, Any] | None = None  # {code, message, params}: what the seller must do now
    row_version: int | None = None  # the store's optimistic lock; None until first saved


@dataclass(frozen=True)
class Image:
    product_id: str
    image_id: str
    user_id: str
    original_key: str
    status: str  # declared | accepted | rejected
    position: int
    file_name: str
    declared_content_type: str
    declared_bytes: int
    created_at: datetime
    format: str | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    sha256: str | None = None
    etag: str | None = None  # the judged bytes' ETag: steps read exactly those bytes, nothing posted since
    rejection: dict[str, Any] | None = None  # {code, message, params}
    quality: dict[str, Any] | None = None  # {score, parts, findings: [{code, message}]}
    thumbnail_key: str | None = None
    processing: dict[str, Any] | None = None  # {scoring_milliseconds, main_picture: {...}}
    received_at: datetime | None = None


@dataclass(frozen=True)
class ListingVersion:
    """One version of a product's listing: generated by the pipeline, or saved by the seller."""

    product_id: str
    version: int  # 0 until the store numbers it
    revision: int  # the product revision it was made from
    source: str  # generated | seller | restored
    title: str
    description: str
    category: dict[str, Any]  # {id, name, path, title_limit}
    confidence: dict[str, Any]  # {overall, parts, reasons}
    created_at: datetime
    category_alternatives: list[dict[str, Any]] = field(default_factory=list)
    other_titles: list[str] = field(default_factory=list)  # titles the seller may choose instead
    attributes: list[dict[str, Any]] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)  # attribute ids
    condition: str | None = None  # new | used
    facts: dict[str, Any] = field(default_factory=dict)
    edited: list[str] = field(default_factory=list)  # the fields the seller edited
    main_picture_key: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)  # {provider, model, tokens, cost_usd, ms}

    @property
    def overall(self) -> float:
        return float(self.confidence["overall"])


@dataclass(frozen=True)
class Event:
    """One line of the product's timeline, in words a seller understands, with a code to translate."""

    at: str  # ISO-8601 time + a random suffix: sortable, unique
    stage: str
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    percent: int | None = None
