"""Chaos on the local stack: every step (ingest, images, content, publish) under duplicate and
out-of-order delivery, a SIGKILLed runtime, an emulator that goes away, failing providers and poison
events. Each scenario ends on the same audit: one result per step, no orphan object, nothing lost.

`make chaos` runs this suite and writes its table into CHAOS.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.local.environment import ROOT
from tests.chaos.harness import (
    QUEUE_PREFIX,
    ChaosRuntime,
    approve,
    audit,
    dead_letters,
    product,
    queues_idle,
    running,
    scenario,
    sell,
    timeline_codes,
    wait_status,
)
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


def test_poison_events_are_dead_lettered_with_their_reason_and_replayed(seller: Any) -> None:
    with scenario("poison events, dead letters, `make replay-dead-letters`") as row:
        runtime = ChaosRuntime(
            _app(), QUEUE_PREFIX, fail_first={"content": 3}, wait_seconds=1, backoff_base=1, max_attempts=3
        )
        with running(runtime):
            content = next(s for s in runtime.subscriptions if s.route.handler_name == "content")
            runtime.sqs.send_message(QueueUrl=content.queue_url, MessageBody='{"not": "an S3 event"')
            product_id = sell(seller)
            row.products, row.faults = 1, 4
            [letter] = wait_for(lambda: dead_letters(runtime, product_id), 120, "the poison dead-lettered")
            reason = letter["MessageAttributes"]["reason"]["StringValue"]
            assert reason == "ChaosFault: injected failure in content"
            assert letter["MessageAttributes"]["attempts"]["StringValue"] == "3"
            assert product(seller, product_id)["status"] == "processing"
            malformed = wait_for(lambda: dead_letters(runtime, '{"not"'), 30, "the malformed message")
            assert "not an S3 event" in malformed[0]["MessageAttributes"]["reason"]["StringValue"]
            # The documented command (`make replay-dead-letters`), against this emulator.
            replay = subprocess.run(
                [sys.executable, "-m", "infra.local.runtime", "replay-dead-letters"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            assert "dead letters sent back for another try" in replay.stdout
            wait_status(seller, product_id, "ready")
            assert dead_letters(runtime, product_id) == []
        found = audit(seller, product_id)
        row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
        row.notes.append(f"dead-letter reason: {reason!r}; replay said: {replay.stdout.strip()!r}")
        assert found.problems == []
