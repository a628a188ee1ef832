from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], seconds: float = 60, what: str = "condition") -> object:
    """Poll until `condition` returns something truthy (and return it), or fail saying what never came."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {seconds:.0f} s")
