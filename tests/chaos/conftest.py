"""A seller ready to publish, and the chaos report: printed at the end of the session; `make chaos`
(CHAOS_REPORT=CHAOS.md) also writes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import ROWS, ProviderDouble, report_table
from tests.selling import connect


@pytest.fixture(autouse=True)
def _queues_start_empty(clean_queues: None) -> None:
    """Every chaos test starts on empty event queues: no event of an earlier test runs in this one."""


@pytest.fixture
def seller(api: Any, sandbox: Any) -> Any:
    """A seller with a MercadoLibre account (the sandbox's), ready to publish."""
    seller = api.seller()
    connect(api, sandbox, seller, f"CHAOS{seller.user_id[-8:]}")
    return seller


@pytest.fixture(scope="session")
def double() -> Iterator[ProviderDouble]:
    """PhotoRoom and Gemini on loopback, failing as told (tests/chaos/harness.py)."""
    server = ProviderDouble()
    yield server
    server.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not ROWS:
        return
    table = report_table(ROWS)
    terminalreporter.write_sep("=", "chaos report")
    terminalreporter.write_line(table)
    target = os.environ.get("CHAOS_REPORT")
    if target:
        from bench.report import machine

        stamp = f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} (`make chaos`)."
        Path(target).write_text(
            "# Chaos\n\n`make chaos` injects faults into the running pipeline and writes this file.\n"
            f"Items duplicated and data lost must be 0.\n\n{stamp}\n\n{table}"
        )
