"""The store's product side in memory, with the same methods and the same optimistic locking as
chalicelib.store, for unit tests of the pipeline's rules without an emulator.

`Products.interfere` lets a test play the other writer: it runs once, just before the next write,
as a concurrent delivery would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import pipeline, store
from chalicelib.domain.errors import ChangedMeanwhile
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.records import Event, Image, ListingVersion, Product
from chalicelib.store.products import Products as StoredProducts


class Products:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Product] = {}
        self.interfere: Callable[[], None] | None = None
        self.writes = 0

    def get(self, user_id: str, product_id: str) -> Product | None:
        return self.rows.get((user_id, product_id))

    def add(self, product: Product) -> Product:
        stored = dataclasses.replace(product, row_version=1)
        self.rows[(product.user_id, product.product_id)] = stored
        return stored

    def change(self, product: Product, **changes: Any) -> Product:
        if self.interfere is not None:
            other, self.interfere = self.interfere, None
            other()
        key = (product.user_id, product.product_id)
        current = self.rows.get(key)
        if current is None or current.row_version != product.row_version:
            raise ChangedMeanwhile()
        self.writes += 1
        written = dataclasses.replace(current, **changes, row_version=(current.row_version or 0) + 1)
        self.rows[key] = written
        return written

    update = StoredProducts.update
    for_job = StoredProducts.for_job


class Images:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Image] = {}

    def of(self, product_id: str) -> list[Image]:
        return sorted((i for (p, _), i in self.rows.items() if p == product_id), key=lambda i: i.position)

    def get(self, product_id: str, image_id: str) -> Image | None:
        return self.rows.get((product_id, image_id))

    def add(self, images: list[Image]) -> None:
        self.rows.update({(i.product_id, i.image_id): i for i in images})

    def update(
        self, product_id: str, image_id: str, *, only_if: dict[str, Any] | None = None, **changes: Any
    ) -> Image | None:
        image = self.rows.get((product_id, image_id))
        if image is None or any(getattr(image, k) != v for k, v in (only_if or {}).items()):
            return None
        self.rows[(product_id, image_id)] = dataclasses.replace(image, **changes)
        return self.rows[(product_id, image_id)]

    def delete(self, image: Image) -> None:
        self.rows.pop((image.product_id, image.image_id), None)


class ListingVersions:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], ListingVersion] = {}

    def get(self, product_id: str, version: int) -> ListingVersion | None:
        return self.rows.get((product_id, version))

    def add(self, version: ListingVersion) -> ListingVersion | None:
        number = max((n for p, n in self.rows if p == version.product_id), default=0) + 1
        numbered = dataclasses.replace(version, version=number)
        self.rows[(version.product_id, number)] = numbered
        return numbered


class Events:
    def __init__(self) -> None:
        self.rows: dict[str, list[Event]] = {}

    def add(self, product_id: str, event: Event) -> None:
        self.rows.setdefault(product_id, []).append(event)

    def of(self, product_id: str, after: str | None = None) -> list[Event]:
        return [event for event in self.rows.get(product_id, []) if after is None or event.at > after]

    def codes(self, product_id: str) -> list[str]:
        return [event.code for event in self.rows.get(product_id, [])]


class Blobs:
    """The bucket's job writes: created once, as S3's conditional put does."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}

    def write_json_once(self, key: str, document: dict[str, Any]) -> bool:
        if key in self.objects:
            return False
        self.objects[key] = document
        return True


class Sellers:
    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}

    def get(self, user_id: str) -> Any:
        return self.rows.get(user_id)


# -- what the pipeline's unit tests share: the store in memory as a fixture, a product, a photo --------

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Any:
    class Memory:
        products = Products()
        images = Images()
        versions = ListingVersions()
        events = Events()
        sellers = Sellers()
        blobs = Blobs()

    for name in ("products", "images", "versions", "events", "sellers"):
        monkeypatch.setattr(store, name, getattr(Memory, name))
    monkeypatch.setattr(pipeline.blobs, "write_json_once", Memory.blobs.write_json_once)
    return Memory


def product(memory: Any, **fields: Any) -> Product:
    return memory.products.add(
        Product(
            **{
                "user_id": "u1",
                "product_id": "p1",
                "status": ProductStatus.UPLOADING,
                "prompt": "yerba 1 kg",
                "created_at": NOW,
                "updated_at": NOW,
                **fields,
            }
        )
    )


def photo(image_id: str, status: str, position: int = 0) -> Image:
    return Image(
        product_id="p1",
        image_id=image_id,
        user_id="u1",
        original_key=f"uploads/u1/p1/{image_id}.jpg",
        status=status,
        position=position,
        file_name=f"{image_id}.jpg",
        declared_content_type="image/jpeg",
        declared_bytes=1000,
        created_at=NOW,
        format="jpeg" if status == "accepted" else None,
        width=1600 if status == "accepted" else None,
        height=1200 if status == "accepted" else None,
    )
