"""The seller's photo changes while the pipeline works: decided on the product as it is when the write
lands (the store's read-again loop), so the seller's own change is never refused as someone else's."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import products
from chalicelib.domain.errors import Conflict
from chalicelib.domain.product import ProductStatus
from tests.memory_store import memory, photo, product

__all__ = ["memory"]  # the fixture


@pytest.fixture
def forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(products.blobs, "upload_form", lambda key, *_: {"url": "s3", "fields": {"key": key}})


def the_pipeline_moves_on(memory: Any, **changes: Any) -> None:
    """The next write waits until a step of the pipeline has written the product (a new row version)."""
    memory.products.interfere = lambda: memory.products.change(memory.products.get("u1", "p1"), **changes)


@pytest.mark.usefixtures("forms")
def test_photos_added_while_the_listing_is_written_start_a_new_revision(memory: Any) -> None:
    product(memory, status=ProductStatus.PROCESSING, revision=1)
    memory.images.add([photo("a", "accepted")])
    # The content step finishes between the seller's read and the seller's write.
    the_pipeline_moves_on(memory, status=ProductStatus.READY, current_version=1)
    detail = products.add_images("u1", "p1", [products.DeclaredPhoto("b.jpg", "image/jpeg", 2000)])
    assert detail.product.revision == 2
    assert detail.product.status is ProductStatus.UPLOADING
    assert detail.product.current_version == 1  # the step's write is kept, not overwritten
    assert len(detail.upload_forms) == 1
    assert memory.events.codes("p1") == ["WAITING_FOR_PHOTOS"]


def test_reordering_while_a_step_writes_decides_on_the_current_revision(memory: Any) -> None:
    product(memory, status=ProductStatus.PROCESSING, revision=3)
    memory.images.add([photo("a", "accepted"), photo("b", "accepted", 1)])
    the_pipeline_moves_on(memory, revision=4)  # another change of the seller's landed first
    detail = products.reorder_images("u1", "p1", ["b", "a"])
    assert detail.product.revision == 5
    assert [i.image_id for i in memory.images.of("p1")] == ["b", "a"]


def test_deleting_a_photo_decides_on_the_main_photo_chosen_meanwhile(memory: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(products.blobs, "delete", lambda key: None)
    product(memory, status=ProductStatus.PROCESSING, main_image_id="a")
    memory.images.add([photo("a", "accepted"), photo("b", "accepted", 1), photo("c", "accepted", 2)])
    # The images step picked "b" as the main photo between the seller's read and write.
    the_pipeline_moves_on(memory, main_image_id="b")
    detail = products.delete_image("u1", "p1", "a")
    assert detail.product.main_image_id == "b"  # not cleared: "a" was no longer the main photo
    assert detail.product.revision == 2
    assert [i.image_id for i in memory.images.of("p1")] == ["b", "c"]


def test_publishing_still_holds_photo_changes(memory: Any) -> None:
    product(memory, status=ProductStatus.READY)
    memory.images.add([photo("a", "accepted"), photo("b", "accepted", 1)])
    the_pipeline_moves_on(memory, status=ProductStatus.PUBLISHING)  # approved meanwhile
    with pytest.raises(Conflict) as refused:
        products.reorder_images("u1", "p1", ["b", "a"])
    assert refused.value.code == "PRODUCT_BUSY"
    assert memory.products.get("u1", "p1").revision == 1
