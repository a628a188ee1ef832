"""Chaos on the local stack: every step (ingest, images, content, publish) under duplicate and
out-of-order delivery, a SIGKILLed runtime, an emulator that goes away, failing providers and poison
events. Each scenario ends on the same audit: one result per step, no orphan object, nothing lost.

`make chaos` runs this suite and writes its table into CHAOS.md.
"""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.chaos.harness import (
    PHOTOS,
    PROMPT,
    QUEUE_PREFIX,
    ChaosRuntime,
    add_photos,
    audit,
    dead_letters,
    product,
    queues_idle,
    scenario,
    sell,
    timeline_codes,
    upload,
    wait_status,
)
from tests.runtime import running
from tests.selling import approve, declared
from tests.waiting import wait_for

pytestmark = pytest.mark.chaos


def _app() -> Any:
    from app import app

    return app


def test_every_event_twice_and_out_of_order_gives_one_result_per_step(seller: Any, sandbox: Any) -> None:
    with scenario("every event delivered twice, then all again in reverse order") as row:
        runtime = ChaosRuntime(_app(), QUEUE_PREFIX, duplicate=True, wait_seconds=1, backoff_base=1)
        with running(runtime):
            product_id = sell(seller)
            row.products = 1
            wait_status(seller, product_id, "ready")
            assert approve(seller, product_id).status_code == 200
            published = wait_status(seller, product_id, "published")
            wait_for(lambda: queues_idle(runtime), 60, "the copies to be delivered")
            # The whole history once more, newest first: every step sees its events late and reversed.
            replayed = list(reversed(runtime.originals))
            for queue_url, body in replayed:
                runtime.sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            time.sleep(1)
            wait_for(lambda: queues_idle(runtime), 90, "the replayed history to be delivered")
        steps = {urlsplit(url).path.rsplit("-", 1)[-1] for url, _ in runtime.originals}
        row.faults = runtime.copies + len(replayed)
        row.notes.append(f"{runtime.copies} copies, {len(replayed)} reversed replays, steps {sorted(steps)}")
        assert steps == {"ingest", "images", "content", "publish"}
        if runtime.failures:
            # A step that lost an optimistic-lock race to its own copy raises and is retried; fine as
            # long as the retry recovers (nothing dead-lettered, audit below).
            row.notes.append(f"{len(runtime.failures)} handler retries: {sorted(set(runtime.failures))}")
        assert dead_letters(runtime, product_id) == []
        after = product(seller, product_id)
        assert after["status"] == "published" and after["item"] == published["item"]
        assert after["revision"] == 1 and after["current_version"] == published["current_version"]
        codes = timeline_codes(seller, product_id)
        # One result per step: one images job announced, one main picture, one listing, one publication.
        for code in ("PHOTOS_RECEIVED", "PUBLISHED"):
            assert codes.count(code) == 1, (code, codes)
        found = audit(seller, product_id, sandbox)
        row.duplicated, row.lost = found.duplicated, found.lost
        row.completed = 1
        assert found.problems == []


@pytest.mark.parametrize("step", ["ingest", "images", "content", "publish"])
def test_a_poison_event_at_every_step_fails_the_product_and_the_sellers_retry_finishes_it(
    seller: Any, sandbox: Any, step: str
) -> None:
    with scenario(f"poison event at {step}: failed with its cause, then the seller's retry") as row:
        # Every attempt at the step's events fails: one job each, or one upload per photo at ingest.
        events = len(PHOTOS) if step == "ingest" else 1
        runtime = ChaosRuntime(
            _app(),
            QUEUE_PREFIX,
            fail_first={step: 3 * events},
            wait_seconds=1,
            backoff_base=1,
            max_attempts=3,
        )
        with running(runtime):
            if step == "ingest":
                # A malformed message is dead-lettered with its reason, and touches no product.
                ingest = next(s for s in runtime.subscriptions if s.route.handler_name == "ingest")
                runtime.sqs.send_message(QueueUrl=ingest.queue_url, MessageBody='{"not": "an S3 event"')
            product_id = sell(seller)
            row.products = 1
            if step == "publish":
                wait_status(seller, product_id, "ready")
                approve(seller, product_id)
            failed = wait_status(seller, product_id, "failed", 180)
            letters = wait_for(lambda: dead_letters(runtime, product_id), 60, "the poison dead-lettered")
            assert len(letters) == events
            reason = letters[0]["MessageAttributes"]["reason"]["StringValue"]
            assert reason == f"ChaosFault: injected failure in {step}"
            if step == "ingest":
                # Intake gave up on the photo: it is set aside, and the seller adds it again.
                assert failed["attention"]["code"] == "ALL_PHOTOS_REJECTED"
                assert {i["rejection"]["code"] for i in failed["images"]} == {"IMAGE_NOT_PROCESSED"}
                malformed = wait_for(lambda: dead_letters(runtime, '{"not"'), 30, "the malformed message")
                assert "not an S3 event" in malformed[0]["MessageAttributes"]["reason"]["StringValue"]
                add_photos(seller, product_id)
            else:
                assert failed["attention"]["code"] == "STEP_FAILED"
                assert failed["attention"]["params"] == {"stage": step, "retry": True}
                retried = seller.call("POST", f"/products/{product_id}/retry")
                assert retried.status_code == 200, retried.json
            wait_status(seller, product_id, "published" if step == "publish" else "ready", 180)
        found = audit(seller, product_id, sandbox if step == "publish" else None)
        row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
        row.faults = 3 * events
        row.notes.append(f"{step}: dead-lettered ({reason}), {failed['attention']['code']}, then retried")
        assert found.problems == []


def _plain_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8000, 800), (40, 90, 160)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_a_plain_colour_photo_never_leaves_the_product_stuck(seller: Any) -> None:
    with scenario("a plain-colour photo (nothing to cut out)") as row:
        runtime = ChaosRuntime(_app(), QUEUE_PREFIX, wait_seconds=1, backoff_base=1)
        with running(runtime):
            product_id = sell(seller, [_plain_photo()], prompt="tela azul")
            row.products, row.faults = 1, 1
            ready = wait_status(seller, product_id, "ready")
            assert ready["main_picture"]["fallback"]["code"] == "WHOLE_PHOTO_FRAMED"
            assert runtime.failures == [] and dead_letters(runtime, product_id) == []
        found = audit(seller, product_id)
        row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
        row.notes.append("plain colour: framed whole on white (WHOLE_PHOTO_FRAMED), no handler failure")
        assert found.problems == []


def test_a_form_posted_again_with_other_bytes_is_judged_again(seller: Any) -> None:
    with scenario("a photo's form posted again with other bytes") as row:
        runtime = ChaosRuntime(_app(), QUEUE_PREFIX, wait_seconds=1, backoff_base=1)
        with running(runtime):
            created = seller.call("POST", "/products", {"prompt": PROMPT, "images": declared(PHOTOS)}).json
            product_id = created["product_id"]
            upload(created["images"], PHOTOS)
            first = wait_status(seller, product_id, "ready")
            # The first photo's form again, with bytes that are no photo (allowed for 15 minutes).
            upload(created["images"][:1], [b"\xff\xd8\xff garbage, not a photo" * 20])

            def replaced() -> dict[str, Any] | None:
                got = product(seller, product_id)
                moved_on = got["revision"] > first["revision"] and got["status"] == "ready"
                return got if moved_on and got["images"][0]["status"] == "rejected" else None

            after = wait_for(replaced, 120, "the re-posted photo judged and the listing written again")
            row.products, row.faults = 1, 1
            assert after["images"][0]["rejection"]["code"] == "IMAGE_CORRUPT"
            assert after["main_image_id"] == after["images"][1]["image_id"]
            assert runtime.failures == [] and dead_letters(runtime, product_id) == []
        found = audit(seller, product_id)
        row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
        row.notes.append("re-posted garbage: refused (IMAGE_CORRUPT), a new revision from the other photo")
        assert found.problems == []
