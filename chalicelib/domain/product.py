"""The product's life: uploading -> processing -> ready -> publishing -> published.

`failed` is reachable from every working state and a retry goes back to where the work restarts.
Illegal moves raise here, before anything touches the database.
"""

from __future__ import annotations

from enum import StrEnum


class ProductStatus(StrEnum):
    UPLOADING = "uploading"
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"


WORKING_STATES = frozenset({ProductStatus.UPLOADING, ProductStatus.PROCESSING, ProductStatus.PUBLISHING})

_ALLOWED: dict[ProductStatus, frozenset[ProductStatus]] = {
    ProductStatus.UPLOADING: frozenset({ProductStatus.PROCESSING, ProductStatus.FAILED}),
    # A new revision (edited prompt, new photo) sends a product back to processing, or back to
    # uploading while new photos are on their way.
    ProductStatus.PROCESSING: frozenset(
        {
            ProductStatus.READY,
            ProductStatus.PUBLISHING,
            ProductStatus.PROCESSING,
            ProductStatus.UPLOADING,
            ProductStatus.FAILED,
        }
    ),
    # A new revision of a ready product can also fail (the seller removed every photo).
    ProductStatus.READY: frozenset(
        {ProductStatus.PROCESSING, ProductStatus.PUBLISHING, ProductStatus.UPLOADING, ProductStatus.FAILED}
    ),
    ProductStatus.PUBLISHING: frozenset({ProductStatus.PUBLISHED, ProductStatus.FAILED}),
    # Published: a change the seller makes is published again (the item is updated), photos are
    # processed again first.
    ProductStatus.PUBLISHED: frozenset(
        {ProductStatus.PUBLISHING, ProductStatus.PROCESSING, ProductStatus.UPLOADING}
    ),
    # Retry: back to the step that failed (the caller says which).
    ProductStatus.FAILED: frozenset(
        {ProductStatus.UPLOADING, ProductStatus.PROCESSING, ProductStatus.PUBLISHING}
    ),
}


class IllegalTransition(ValueError):
    def __init__(self, current: ProductStatus, target: ProductStatus) -> None:
        super().__init__(f"a product that is {current.value} cannot become {target.value}")
        self.current = current
        self.target = target


def can_move(current: ProductStatus, target: ProductStatus) -> bool:
    return target in _ALLOWED[current]


def move(current: ProductStatus, target: ProductStatus) -> ProductStatus:
    """The new status, or IllegalTransition."""
    if not can_move(current, target):
        raise IllegalTransition(current, target)
    return target
