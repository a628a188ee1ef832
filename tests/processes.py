"""What a test started is gone when it ends: processes (a whole tree), threads, listening sockets.

Linux only (/proc and prctl); elsewhere the checks say they could not run. pytest makes itself a
child subreaper, so a process whose parent died (a child of a killed `make run`, in its own session)
is adopted by pytest instead of init: every process a test started stays pytest's descendant, and
the session's end can list the ones still alive.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from infra.local.processes import stop_group

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
PROC = Path("/proc")
LINUX = sys.platform.startswith("linux") and PROC.is_dir()


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    state: str
    started: int  # clock ticks after boot: with the pid, names one process even if the pid is reused
    command: str

    @property
    def running(self) -> bool:
        return self.state not in ("Z", "X")  # a zombie has exited; it only waits to be reaped


def become_subreaper() -> bool:
    if not LINUX:
        return False
    return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def _read(pid: int) -> Process | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) ": state, ppid, ... starttime
    return Process(pid, int(fields[1]), fields[0], int(fields[19]), command.strip())


def descendants(root: int | None = None) -> list[Process]:
    """Every process below `root` (this one by default), children before grandchildren."""
    if not LINUX:
        return []
    table = [p for p in (_read(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit()) if p]
    below, frontier = [], [root or os.getpid()]
    while frontier:
        children = [p for p in table if p.parent in frontier]
        below += children
        frontier = [p.pid for p in children]
    return below


def carrying(name: str, value: str, root: int | None = None) -> list[Process]:
    """The running processes below `root` whose environment sets `name` to `value` (a stack's state
    folder names every process of that stack, restarted children and orphans included)."""
    wanted = f"{name}={value}".encode()
    found = []
    for process in descendants(root):
        with contextlib.suppress(OSError):
            if process.running and wanted in (PROC / str(process.pid) / "environ").read_bytes().split(b"\0"):
                found.append(process)
    return found


def _same(process: Process) -> Process | None:
    now = _read(process.pid)
    return now if now is not None and now.started == process.started else None


def reap(process: Process) -> None:
    """Collect an exited child's status (an adopted orphan is ours to reap once it exits)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(process.pid, os.WNOHANG)


def gone(process: Process) -> bool:
    now = _same(process)
    if now is not None and not now.running:
        reap(now)
        now = _same(process)
    return now is None or not now.running


def end(processes: list[Process], grace_seconds: float = 15) -> None:
    """SIGTERM each (and its group), wait for all to exit, SIGKILL the ones that do not."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 10.0)):
        alive = [p for p in processes if not gone(p)]
        for process in alive:
            for send in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    send(process.pid, sig)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if not gone(p)]
            if alive:
                time.sleep(0.05)


def stop_tree(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace_seconds: float = 15) -> None:
    """Stop a process and everything it started, wherever those run (their own sessions too), and
    wait until every one of them is gone."""
    tree = descendants(process.pid)  # before the parent goes: afterwards they are adopted
    stop_group(process, grace_seconds, sig)
    end(tree, grace_seconds)


def listening_sockets() -> list[str]:
    """TCP sockets this process still holds in the LISTEN state, as host:port."""
    if not LINUX:
        return []
    inodes = set()
    for fd in (PROC / "self" / "fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in (PROC / "net" / table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(f"{table}:{int(fields[1].rsplit(':', 1)[1], 16)}")
    return found


def other_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
