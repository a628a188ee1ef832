"""Starting (or finding) the AWS emulator: moto server on loopback, no Docker, no account."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import requests

from infra.local.environment import ROOT
from infra.local.processes import die_with_parent, stop_group


class EmulatorError(RuntimeError):
    pass


def is_up(endpoint_url: str) -> bool:
    try:
        requests.get(endpoint_url, timeout=1)
    except requests.RequestException:
        return False
    return True


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(endpoint_url: str, process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorError(f"the emulator exited with code {process.returncode} while starting")
        if is_up(endpoint_url):
            return
        time.sleep(0.1)
    raise EmulatorError(f"the emulator at {endpoint_url} did not answer within {timeout:.0f} s")


def moto_command(port: int) -> list[str]:
    """moto server with the local stack's additions (infra/local/moto_server.py) on 127.0.0.1:port."""
    return [sys.executable, "-m", "infra.local.moto_server", "-H", "127.0.0.1", "-p", str(port)]


def start_moto(
    port: int, log: IO[bytes] | Path | None = None, timeout: float = 30
) -> subprocess.Popen[bytes]:
    """moto server (with atomic DynamoDB writes, see moto_server.py) on 127.0.0.1:port, in its own
    process group so it can be stopped by PID; it dies with this process. One that does not answer
    within `timeout` is stopped before the error is raised."""
    if not port_is_free(port):
        raise EmulatorError(
            f"port {port} is already in use; stop what runs there or set EMULATOR_PORT to another port"
        )
    out: IO[bytes] | int = subprocess.DEVNULL
    if isinstance(log, Path):
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
    elif log is not None:
        out = log
    process = subprocess.Popen(
        moto_command(port),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
        cwd=ROOT,  # where `infra` is importable
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process, timeout)
    except BaseException:
        stop_group(process)
        raise
    finally:
        if isinstance(log, Path) and not isinstance(out, int):
            out.close()  # the child has its own copy of the file
    return process
