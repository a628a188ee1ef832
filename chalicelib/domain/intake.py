"""What a seller may declare before uploading: counts and sizes, checked against what the product has.

Shapes and single-field limits are checked by the API models; these rules need the product's
existing photos too, so they live here, pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.limits import MAX_IMAGES, MAX_TOTAL_BYTES, MB


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
