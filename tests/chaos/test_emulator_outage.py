"""The emulator goes away for a few seconds, twice, mid-step: the images step has stored the main
picture and not yet recorded it; the publish step has created the item and not yet recorded it. The
event runtime (a separate process, as in
`make run`) and the functions it runs reach the emulator only through a loopback proxy that is cut;
the seller's API keeps its own link. The runtime must back off while the link is down (its log says
so, with the wait growing), lose no message, and the product must still end published with one
result per step and one MercadoLibre item.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.chaos.harness import (
    Link,
    RuntimeProcess,
    published_once,
    scenario,
    sell,
    wait_status,
)
from tests.selling import approve
from tests.waiting import wait_for

pytestmark = pytest.mark.chaos

OUTAGE_SECONDS = 6


def _log_lines(runtime: RuntimeProcess) -> list[dict[str, Any]]:
    lines = []
    for line in runtime.log().splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


# Where each step is held while the link goes down: between two of its writes.
PAUSES = ["chalicelib.images:_record_pictures", "chalicelib.publish:_describe"]


def _outage_at(n: int, folder: Path, link: Link) -> None:
    """Wait for the step to reach pause `n`, cut the link, let the step go on into it, restore."""
    wait_for((folder / f"paused-{n}").exists, 180, f"the step to reach {PAUSES[n]}")
    link.cut()
    (folder / f"release-{n}").touch()
    time.sleep(OUTAGE_SECONDS)
    link.restore()


def test_the_emulator_unreachable_mid_pipeline(seller: Any, sandbox: Any, tmp_path: Path) -> None:
    emulator_port = urlsplit(os.environ["AWS_ENDPOINT_URL"]).port
    assert emulator_port is not None
    link = Link(emulator_port)
    with scenario(f"emulator unreachable for {OUTAGE_SECONDS} s, mid-images and mid-publish") as row:
        runtime = RuntimeProcess(tmp_path, endpoint=link.url)
        try:
            # A handler cut off mid-step cannot even postpone its message: it comes back after the
            # visibility timeout, counted as one more attempt. Five attempts ride out two outages.
            runtime.start(EVENT_MAX_ATTEMPTS="5", CHAOS_PAUSE=",".join(PAUSES), CHAOS_PAUSE_DIR=str(tmp_path))
            product_id = sell(seller)
            row.products = 1
            _outage_at(0, tmp_path, link)
            row.faults += 1
            wait_status(seller, product_id, "ready", 240)
            assert approve(seller, product_id).status_code == 200
            _outage_at(1, tmp_path, link)
            row.faults += 1
            done = wait_status(seller, product_id, "published", 240)
        finally:
            runtime.stop()
            link.close()
        lines = _log_lines(runtime)
        unreachable = [line for line in lines if line.get("message") == "cannot reach the queue; retrying"]
        handler_failures = [
            line
            for line in lines
            if line.get("message") in ("handler failed; will retry", "unexpected runtime error")
        ]
        dead = [line for line in lines if line.get("message") == "moved to the dead-letter queue"]
        waits = [float(line["retry_in_s"]) for line in unreachable]
        row.notes.append(
            f"{len(unreachable)} polls refused while cut (waits {sorted(set(waits))} s), "
            f"{len(handler_failures)} handler runs cut off and retried, {len(dead)} dead-lettered"
        )
        # It noticed, backed off with growing waits, and came back.
        assert unreachable, "the runtime never noticed the emulator was gone"
        assert max(waits) > min(waits), waits
        assert dead == []
        assert len(handler_failures) >= 2, "each held step should have run into the cut link"
        published_once(seller, product_id, sandbox, done["item"]["id"], row)
