"""The limits a seller's upload must respect, in one place: the API, ingest and the panel use these.

Shapes and single-field limits are checked by the API models; `check_new_images` needs the product's
existing photos too, so it lives here, pure.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024

PROMPT_MAX_CHARS = 500
MAX_IMAGES = 8
MAX_IMAGE_BYTES = 10 * MB
MAX_TOTAL_BYTES = 50 * MB
MIN_WIDTH = 800
MIN_HEIGHT = 600
# Far above any phone camera (200 MP sensors bin to 12-50 MP), far below a decompression bomb.
MAX_PIXELS = 120_000_000

CONTENT_TYPES = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class LimitProblem:
    field: str
    code: str
    message: str
    limit: int
    actual: int


def check_new_images(existing_sizes: list[int], new_sizes: list[int]) -> LimitProblem | None:
    """The first limit the new photos would break, counting the photos the product keeps."""
    count = len(existing_sizes) + len(new_sizes)
    if count > MAX_IMAGES:
        already = f" (it has {len(existing_sizes)})" if existing_sizes else ""
        return LimitProblem(
            "images",
            "TOO_MANY_IMAGES",
            f"a product can have at most {MAX_IMAGES} photos{already}; {count} is too many",
            MAX_IMAGES,
            count,
        )
    total = sum(existing_sizes) + sum(new_sizes)
    if total > MAX_TOTAL_BYTES:
        return LimitProblem(
            "images",
            "UPLOAD_TOO_LARGE",
            f"the photos add up to {total / MB:.1f} MB; at most {MAX_TOTAL_BYTES // MB} MB together",
            MAX_TOTAL_BYTES,
            total,
        )
    return None
