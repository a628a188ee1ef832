"""One of the event runtime's worker processes SIGKILLed in the middle of every step (as an
out-of-memory kill would), the runtime itself staying up: the step's invocation fails, is retried
on a fresh worker, and the product still reaches its end state with one result per step and one
MercadoLibre item."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import STALLS, RuntimeProcess, published_once, scenario, sell, wait_status
from tests.selling import approve
from tests.waiting import wait_for

pytestmark = pytest.mark.chaos


def test_a_worker_killed_mid_step_at_every_step(seller: Any, sandbox: Any, tmp_path: Path) -> None:
    with scenario("a worker process SIGKILLed mid-step, once per step (the runtime stays up)") as row:
        runtime = RuntimeProcess(tmp_path)
        try:
            marker = runtime.start(stall=",".join(spec for _, spec in STALLS), CHAOS_STALL_ONCE="1")
            product_id = sell(seller)
            row.products = 1
            for n, (step, _) in enumerate(STALLS):
                point = marker.with_name(f"{marker.name}.{n}")
                worker = wait_for(
                    lambda point=point: point.exists() and point.read_text().strip(),
                    120,
                    f"the {step} step to reach its stall point",
                )
                assert int(worker) != runtime.process.pid  # a worker, not the runtime
                os.kill(int(worker), signal.SIGKILL)
                row.faults += 1
                if step == "content":
                    wait_status(seller, product_id, "ready")
                    assert approve(seller, product_id).status_code == 200
            done = wait_status(seller, product_id, "published")
            assert runtime.process.poll() is None  # the runtime never went down
        finally:
            runtime.stop()
        published_once(seller, product_id, sandbox, done["item"]["id"], row)
