"""Where a product's objects live in the bucket, and what a valid upload key looks like.

Key layout: uploads/{user_id}/{product_id}/{image_id}.{jpg|png}. The ingest function trusts
nothing else about an object than this key; everything else is read from the bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UPLOADS_PREFIX = "uploads/"
EXTENSIONS = ("jpg", "png")

_ID = r"[A-Za-z0-9_-]{1,64}"
_UPLOAD_KEY = re.compile(
    rf"uploads/(?P<user_id>{_ID})/(?P<product_id>{_ID})/(?P<image_id>{_ID})\.(?P<ext>jpg|png)"
)


@dataclass(frozen=True)
class UploadKey:
    user_id: str
    product_id: str
    image_id: str
    extension: str

    @classmethod
    def parse(cls, key: str) -> UploadKey | None:
        """The parts of an upload key, or None for anything that is not one."""
        match = _UPLOAD_KEY.fullmatch(key)
        if match is None:
            return None
        return cls(
            user_id=match["user_id"],
            product_id=match["product_id"],
            image_id=match["image_id"],
            extension=match["ext"],
        )

    def __str__(self) -> str:
        return f"{UPLOADS_PREFIX}{self.user_id}/{self.product_id}/{self.image_id}.{self.extension}"


# Everything a product owns in the bucket. Jobs are keyed by product only: ids are unique.
JOB_KINDS = ("images", "content", "publish")


def product_prefixes(user_id: str, product_id: str) -> list[str]:
    return [
        f"{UPLOADS_PREFIX}{user_id}/{product_id}/",
        processed_prefix(user_id, product_id),
        *(f"jobs/{kind}/{product_id}/" for kind in JOB_KINDS),
    ]


# What the images step makes of a product's photos. Keyed by revision or photo: a redelivered job
# rewrites the same objects.
def processed_prefix(user_id: str, product_id: str) -> str:
    return f"processed/{user_id}/{product_id}/"


def main_picture_key(user_id: str, product_id: str, revision: int) -> str:
    return f"{processed_prefix(user_id, product_id)}main/{revision}.jpg"


def main_thumbnail_key(main_picture: str) -> str:
    """The products list shows the listing's picture (on white), not the raw photo."""
    return main_picture.removesuffix(".jpg") + "-thumb.jpg"


def photo_thumbnail_key(user_id: str, product_id: str, image_id: str) -> str:
    return f"{processed_prefix(user_id, product_id)}thumbs/{image_id}.jpg"


def job_key(kind: str, product_id: str, revision: int, attempt: int = 1) -> str:
    """A job's key. A later attempt of the same work (a seller's retry) gets its own key, so it fires."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    suffix = f"-{attempt}" if attempt > 1 else ""
    return f"jobs/{kind}/{product_id}/{revision}{suffix}.json"
