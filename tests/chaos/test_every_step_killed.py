"""The event runtime SIGKILLed in the middle of every step (ingest, images, content, publish), one
product through all four: it still reaches its end state with one result per step, no orphan object
and one MercadoLibre item. The representative chaos scenario `make test` runs; `make chaos` runs all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import (
    STALLS,
    RuntimeProcess,
    published_once,
    scenario,
    sell,
    wait_status,
)
from tests.selling import approve
from tests.waiting import wait_for

pytestmark = pytest.mark.chaos


def test_the_runtime_killed_mid_step_at_every_step(seller: Any, sandbox: Any, tmp_path: Path) -> None:
    with scenario("runtime SIGKILLed mid-step, once per step") as row:
        runtime = RuntimeProcess(tmp_path)
        try:
            marker = runtime.start(stall=STALLS[0][1])
            product_id = sell(seller)
            row.products = 1
            for n, (step, _) in enumerate(STALLS):
                wait_for(marker.exists, 120, f"the {step} step to reach its stall point")
                runtime.kill()
                row.faults += 1
                following = STALLS[n + 1][1] if n + 1 < len(STALLS) else None
                marker = runtime.start(stall=following)
                if step == "content":
                    wait_status(seller, product_id, "ready")
                    assert approve(seller, product_id).status_code == 200
            done = wait_status(seller, product_id, "published")
        finally:
            runtime.stop()
        published_once(seller, product_id, sandbox, done["item"]["id"], row)
