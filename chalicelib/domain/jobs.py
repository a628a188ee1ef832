"""The pipeline's jobs: what one step hands the next, as typed records.

A job is a JSON manifest under `jobs/{kind}/{product}/...`; writing it is what triggers the next
function (chalicelib.pipeline reads and writes them, the only place that does). The manifests double
as an audit trail of every run, so their JSON stays plain and stable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class JobPhoto:
    """An accepted photo as a step sees it; `quality` once the images step scored it."""

    image_id: str
    key: str
    position: int
    format: str | None
    width: int
    height: int
    sha256: str | None
    quality: dict[str, Any] | None = None
    etag: str | None = None  # the judged bytes: a step reads exactly these (blobs.read's IfMatch)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobPhoto:
        return cls(
            image_id=str(data["image_id"]),
            key=str(data["key"]),
            position=int(data["position"]),
            format=data.get("format"),
            width=int(data["width"]),
            height=int(data["height"]),
            sha256=data.get("sha256"),
            quality=data.get("quality"),
            etag=data.get("etag"),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.quality is None:
            del data["quality"]
        return data


@dataclass(frozen=True)
class ImagesJob:
    """Score the photos of one revision, choose and make the main picture."""

    kind: ClassVar[str] = "images"
    product_id: str
    user_id: str
    revision: int
    prompt: str
    main_image_id: str | None  # the seller's explicit choice, if still usable
    images: list[JobPhoto] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImagesJob:
        return cls(
            product_id=str(data["product_id"]),
            user_id=str(data["user_id"]),
            revision=int(data["revision"]),
            prompt=str(data["prompt"]),
            main_image_id=data.get("main_image_id"),
            images=[JobPhoto.from_json(i) for i in data["images"]],
        )

    def to_json(self) -> dict[str, Any]:
        return {**_plain(self), "images": [i.to_json() for i in self.images]}


@dataclass(frozen=True)
class ContentJob:
    """Write the listing of one revision from its photos (scored) and its main picture."""

    kind: ClassVar[str] = "content"
    product_id: str
    user_id: str
    revision: int
    prompt: str
    main_image_id: str
    main_picture_key: str
    main_original_key: str
    images: list[JobPhoto] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContentJob:
        return cls(
            product_id=str(data["product_id"]),
            user_id=str(data["user_id"]),
            revision=int(data["revision"]),
            prompt=str(data["prompt"]),
            main_image_id=str(data["main_image_id"]),
            main_picture_key=str(data["main_picture_key"]),
            main_original_key=str(data["main_original_key"]),
            images=[JobPhoto.from_json(i) for i in data["images"]],
        )

    def to_json(self) -> dict[str, Any]:
        return {**_plain(self), "images": [i.to_json() for i in self.images]}

    @property
    def main_quality(self) -> float | None:
        main = next((i for i in self.images if i.image_id == self.main_image_id), None)
        return None if main is None or main.quality is None else main.quality.get("score")


ITEM_STATUSES = ("active", "paused", "closed")  # what a seller may ask of a MercadoLibre item


@dataclass(frozen=True)
class Approval:
    """Who approved which listing version, and on what terms (price, quantity, listing type), and
    the item's status the seller wants on MercadoLibre: publishing makes the item match it."""

    version: int
    by: str  # the seller's user id, or "auto-publish"
    at: str  # ISO-8601
    price: float
    currency: str
    quantity: int
    listing_type: str
    condition: str
    status: str = "active"  # one of ITEM_STATUSES
    # What the seller changed on a published product with this approval (price, quantity, status...):
    # those go to MercadoLibre even when they equal what was sent before (stock sold since, say).
    changes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Approval:
        return cls(
            version=int(data["version"]),
            by=str(data["by"]),
            at=str(data["at"]),
            price=float(data["price"]),
            currency=str(data["currency"]),
            quantity=int(data["quantity"]),
            listing_type=str(data["listing_type"]),
            condition=str(data.get("condition") or "new"),
            status=str(data.get("status") or "active"),
            changes=tuple(str(change) for change in data.get("changes") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changes": list(self.changes)}


@dataclass(frozen=True)
class PublishJob:
    """Publish the approved version on MercadoLibre; `attempt` counts the approvals of the product."""

    kind: ClassVar[str] = "publish"
    product_id: str
    user_id: str
    attempt: int
    approval: Approval

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublishJob:
        return cls(
            product_id=str(data["product_id"]),
            user_id=str(data["user_id"]),
            attempt=int(data["attempt"]),
            approval=Approval.from_json(data),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "user_id": self.user_id,
            "attempt": self.attempt,
            **self.approval.to_json(),
        }


Job = ImagesJob | ContentJob | PublishJob
JOB_TYPES: dict[str, type[ImagesJob] | type[ContentJob] | type[PublishJob]] = {
    t.kind: t for t in (ImagesJob, ContentJob, PublishJob)
}


def _plain(job: ImagesJob | ContentJob) -> dict[str, Any]:
    return {k: v for k, v in asdict(job).items() if k != "images"}
