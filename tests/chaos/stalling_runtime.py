"""The real event runtime (`python -m infra.local.runtime`), with one function made to stop mid-step.

CHAOS_STALL="module:function" replaces that function: the first call writes its process id into
CHAOS_STALL_MARKER and every call then waits forever, so the test can SIGKILL the process (a worker,
or the whole runtime) at exactly that point of a step. The points the chaos suite uses sit between
two writes of a step, where a crash hurts most. With CHAOS_STALL_ONCE set, CHAOS_STALL may name
several functions (comma-separated; markers CHAOS_STALL_MARKER.0, .1...), and each stops only the
first time it is called in any process: the retry after the kill goes through.

CHAOS_PAUSE="module:function,module:function" holds each of those functions the first time it is
called, after touching CHAOS_PAUSE_DIR/paused-{n}, until CHAOS_PAUSE_DIR/release-{n} exists; then it
runs. The test can change the world (cut the emulator's link) while a step is known to be mid-way.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any


def stall(spec: str, marker: Path, once: bool = False) -> None:
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    @functools.wraps(original)
    def stopped(*args: Any, **kwargs: Any) -> Any:
        if once and marker.exists():
            return original(*args, **kwargs)
        marker.write_text(str(os.getpid()))
        while True:  # until SIGKILL
            time.sleep(60)

    setattr(module, name, stopped)


def pause(spec: str, paused: Path, release: Path) -> None:
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    @functools.wraps(original)
    def held(*args: Any, **kwargs: Any) -> Any:
        if not paused.exists():
            paused.touch()
            while not release.exists():
                time.sleep(0.1)
        return original(*args, **kwargs)

    setattr(module, name, held)


def _app_with_faults() -> Any:
    if os.environ.get("CHAOS_STALL"):
        marker = Path(os.environ["CHAOS_STALL_MARKER"])
        specs = os.environ["CHAOS_STALL"].split(",")
        for n, spec in enumerate(specs):
            where = marker if len(specs) == 1 else marker.with_name(f"{marker.name}.{n}")
            stall(spec, where, once=bool(os.environ.get("CHAOS_STALL_ONCE")))
    if os.environ.get("CHAOS_PAUSE"):
        folder = Path(os.environ["CHAOS_PAUSE_DIR"])
        for n, spec in enumerate(os.environ["CHAOS_PAUSE"].split(",")):
            pause(spec, folder / f"paused-{n}", folder / f"release-{n}")
    from app import app as the_app

    return the_app


if __name__ == "__main__":
    from infra.local.runtime import main

    # The runtime and each of its worker processes load the app from here, faults in place.
    main(["--app", "tests.chaos.stalling_runtime:app", *sys.argv[1:]])
else:
    app = _app_with_faults()
