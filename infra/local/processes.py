"""Children of the local stack: started so they cannot outlive the process that started them, and
stopped by PID, group and all.

Each child runs in its own session (Ctrl-C in a terminal reaches `make run` alone, which then stops
its children in order), so a kill of the parent's process group does not reach them. On Linux the
kernel closes that gap: a child started with `die_with_parent` gets SIGTERM the moment the process
that started it dies, however it dies (`kill -9` included).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """`preexec_fn` for Popen: SIGTERM this child when its parent dies (Linux; elsewhere nothing).

    The signal follows the thread that forked, so start children from a thread that lives as long
    as the parent (the main thread, here)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def stop_group(
    process: subprocess.Popen[bytes], grace_seconds: float = 15, sig: int = signal.SIGTERM
) -> None:
    """`sig` to the child's process group, then SIGKILL after `grace_seconds`; waits until it is gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # exited between poll() and killpg()
            os.killpg(process.pid, sig)
        try:
            process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
