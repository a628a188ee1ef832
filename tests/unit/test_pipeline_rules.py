"""The pipeline's moves on an in-memory store: what runs next, failing, and deciding again when
another writer got there first (the store's optimistic lock), without an emulator."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chalicelib import pipeline
from chalicelib.domain.jobs import ImagesJob
from chalicelib.domain.product import ProductStatus
from chalicelib.domain.records import ListingVersion
from tests.memory_store import NOW, memory, photo, product

__all__ = ["memory"]  # the fixture


def test_the_last_photo_in_writes_the_images_job_once(memory: Any) -> None:
    shown = product(memory)
    memory.images.add([photo("a", "accepted"), photo("b", "rejected", 1)])
    pipeline.advance(shown)
    pipeline.advance(shown)  # a duplicate delivery
    assert list(memory.blobs.objects) == ["jobs/images/p1/1.json"]
    job = ImagesJob.from_json(memory.blobs.objects["jobs/images/p1/1.json"])
    assert [i.image_id for i in job.images] == ["a"]
    assert memory.products.get("u1", "p1").status is ProductStatus.PROCESSING
    assert memory.events.codes("p1") == ["PHOTOS_RECEIVED"]


def test_a_photo_still_on_its_way_holds_the_job(memory: Any) -> None:
    shown = product(memory)
    memory.images.add([photo("a", "accepted"), photo("b", "declared", 1)])
    pipeline.advance(shown)
    assert memory.blobs.objects == {}


def test_a_newer_revision_started_meanwhile_takes_over(memory: Any) -> None:
    shown = product(memory)
    memory.images.add([photo("a", "accepted")])
    # The seller adds a photo between our read and our claim: revision 2 is theirs to start.
    memory.products.interfere = lambda: memory.products.change(memory.products.get("u1", "p1"), revision=2)
    pipeline.advance(shown)
    assert memory.blobs.objects == {}


def test_failing_decides_again_on_what_is_there_after_a_concurrent_write(memory: Any) -> None:
    shown = product(memory, status=ProductStatus.PROCESSING)
    # Another writer touches the row (the seller paused it): failing reads again and still fails it.
    memory.products.interfere = lambda: memory.products.change(memory.products.get("u1", "p1"), paused=True)
    assert pipeline.fail(shown, "images", "NO_USABLE_PHOTOS", "none usable", {}, revision=1)
    failed = memory.products.get("u1", "p1")
    assert failed.status is ProductStatus.FAILED and failed.paused
    assert failed.attention["code"] == "NO_USABLE_PHOTOS"
    # A second delivery of the same failure changes nothing: the first reason stands.
    assert not pipeline.fail(failed, "images", "OTHER", "other", {}, revision=1)
    assert memory.events.codes("p1") == ["NO_USABLE_PHOTOS"]


def test_a_failure_of_an_older_revision_is_dropped(memory: Any) -> None:
    shown = product(memory, status=ProductStatus.PROCESSING, revision=3)
    assert not pipeline.fail(shown, "content", "GEMINI_TIMEOUT", "slow", {}, revision=2)
    assert memory.products.get("u1", "p1").status is ProductStatus.PROCESSING


def test_a_listing_of_a_stale_revision_never_becomes_current(memory: Any) -> None:
    shown = product(memory, status=ProductStatus.PROCESSING, revision=2)
    version = memory.versions.add(
        ListingVersion(
            product_id="p1",
            version=0,
            revision=1,
            source="generated",
            title="Yerba 1 kg",
            description="Yerba.",
            category={"id": "MLA1", "name": "Yerba", "path": "Yerba", "title_limit": 60},
            confidence={"overall": 0.9, "parts": {}, "reasons": []},
            created_at=NOW,
        )
    )
    assert not pipeline.ready_or_publish(shown, version)
    assert memory.products.get("u1", "p1").current_version == 0
    assert pipeline.ready_or_publish(dataclasses.replace(shown), dataclasses.replace(version, revision=2))
    ready = memory.products.get("u1", "p1")
    assert ready.status is ProductStatus.READY and ready.current_version == 1 and ready.title == "Yerba 1 kg"


def test_photos_replaced_while_analysed_leave_the_decision_to_the_newer_revision(
    memory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import images
    from chalicelib.domain.jobs import JobPhoto
    from chalicelib.store import blobs

    shown = product(memory, status=ProductStatus.PROCESSING, images_job_revision=1)
    memory.images.add([photo("a", "accepted")])
    job = pipeline.images_job(shown, memory.images.of("p1"))
    assert job.images == [JobPhoto("a", "uploads/u1/p1/a.jpg", 0, "jpeg", 1600, 1200, None, None)]
    monkeypatch.setattr(pipeline, "read_job", lambda key: job)

    def posted_again(key: str, etag: str | None = None) -> bytes:
        raise blobs.ObjectChanged(key)

    monkeypatch.setattr(images.blobs, "read", posted_again)
    images.process_images_job("jobs/images/p1/1.json")
    # Not failed with "none of the photos could be used": the upload's own event judges the new bytes.
    assert memory.products.get("u1", "p1").status is ProductStatus.PROCESSING
    assert memory.events.codes("p1") == ["ANALYSING_PHOTOS"]


@pytest.mark.parametrize(
    ("status", "goes_on"),
    [(ProductStatus.PUBLISHING, True), (ProductStatus.FAILED, True), (ProductStatus.READY, False)],
)
def test_a_publish_job_goes_on_only_while_its_approval_is_being_published(
    memory: Any, status: ProductStatus, goes_on: bool
) -> None:
    from chalicelib.domain.jobs import Approval, PublishJob

    approval = Approval(1, "u1", NOW.isoformat(), 1500.0, "ARS", 3, "gold_special", "new")
    shown = product(memory, status=status, approval=dataclasses.asdict(approval), publish_attempts=1)
    job = PublishJob(product_id="p1", user_id="u1", attempt=1, approval=approval)
    # Ready again (the seller edited after a failed run): a late copy of the job publishes nothing.
    assert (memory.products.for_job(job, "jobs/publish/p1/1.json") == shown) is goes_on
