"""The local event runtime in a thread of this process, as `make run` runs it in a process of its own:
started, stopped at the end, and proven stopped (the thread joined), whatever the test did."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from infra.local.runtime import EventRuntime


@contextlib.contextmanager
def running(runtime: EventRuntime) -> Iterator[EventRuntime]:
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    try:
        yield runtime
    finally:
        runtime.stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the event runtime did not stop"
