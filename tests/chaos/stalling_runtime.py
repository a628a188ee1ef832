"""The real event runtime (`python -m infra.local.runtime`), with one function made to stop mid-step.

CHAOS_STALL="module:function" replaces that function: the first call touches CHAOS_STALL_MARKER and
every call then waits forever, so the test can SIGKILL the process at exactly that point of a step.
The points the chaos suite uses sit between two writes of a step, where a crash hurts most.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path
from typing import Any


def stall(spec: str, marker: Path) -> None:
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    @functools.wraps(original)
    def stopped(*args: Any, **kwargs: Any) -> Any:
        marker.touch()
        while True:  # until SIGKILL
            time.sleep(60)

    setattr(module, name, stopped)


if __name__ == "__main__":
    if os.environ.get("CHAOS_STALL"):
        stall(os.environ["CHAOS_STALL"], Path(os.environ["CHAOS_STALL_MARKER"]))
    from infra.local.runtime import main

    main()
