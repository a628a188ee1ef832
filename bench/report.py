"""The machine a benchmark ran on, and writing one section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def timed(work: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median seconds of `repeat` runs after `warmup` runs."""
    for _ in range(warmup):
        work()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def write_section(title: str, body: str) -> None:
    """Replace (or add) the `## title` section of BENCHMARKS.md, stamped with the machine and date."""
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}."
    section = f"## {title}\n\n{stamp}\n\n{body.strip()}\n"
    text = (
        BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n\n`make bench` writes this file.\n"
    )
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip() + "\n")
