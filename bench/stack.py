"""The local stack for benchmarks: the same processes `make run` starts, each one under our control.

Unlike `python -m infra.local.stack` (which stops everything when one child stops), the event runtime
here can be stopped and started again with another number of workers on the same emulator, and every
child's PID is at hand to read its memory. Loopback only, free ports, stopped by PID at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from infra.local import emulator
from infra.local.environment import apply, emulator_environment
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID as SANDBOX_CLIENT_ID
from infra.local.stack import Service, local_secrets


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes `pid` started (the event runtime's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def peak_rss_of_workers_mb(pid: int) -> float:
    """The largest peak resident memory among the processes `pid` started, in MB (0 without any)."""
    peaks = []
    for child in children(pid):
        try:
            peaks.append(peak_rss_mb(child))
        except (OSError, RuntimeError):
            continue
    return max(peaks, default=0.0)


class BenchStack:
    """Emulator + provisioning + MercadoLibre sandbox + API (`chalice local`); the event runtime on demand."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="intellipost-bench-")
        self.folder = Path(self._folder.name)
        self.logs = self.folder / "logs"
        self.api_port = emulator.free_port()
        self.endpoint = f"http://127.0.0.1:{emulator.free_port()}"
        self.sandbox_port = emulator.free_port()
        self.api = f"http://127.0.0.1:{self.api_port}/api/v1"
        self.moto: subprocess.Popen[bytes] | None = None
        self.services: dict[str, Service] = {}
        self.env: dict[str, str] = {}

    def __enter__(self) -> BenchStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        port = int(self.endpoint.rsplit(":", 1)[1])
        self.moto = emulator.start_moto(port, log=self.logs / "emulator.log")
        env = emulator_environment(self.endpoint)
        env.update(local_secrets(self.folder / "secrets"))
        sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        env.update(
            MERCADOLIBRE_API_URL=sandbox,
            MERCADOLIBRE_AUTH_URL=sandbox,
            MERCADOLIBRE_CLIENT_ID=SANDBOX_CLIENT_ID,
            MERCADOLIBRE_REDIRECT_URI=f"{self.api}/ml/callback",
            LOG_LEVEL="WARNING",  # per-step INFO lines would cost the run time of their own
        )
        # Local providers, whatever this shell holds.
        for name in (
            "GEMINI_API_KEY",
            "GEMINI_API_KEY_PARAMETER",
            "PHOTOROOM_API_KEY",
            "PHOTOROOM_API_KEY_PARAMETER",
        ):
            os.environ.pop(name, None)
        apply(env)
        self.env = env

        from app import app
        from chalicelib.store.models import ALL_MODELS
        from infra.local.provision import provision_resources, switch_on_events

        routes = provision_resources(app, env["EVENT_QUEUE_PREFIX"], ALL_MODELS, {env["MEDIA_BUCKET"]})
        switch_on_events(routes)
        self.queues = {route.handler_name: route.queue_name for route in routes}

        sandbox_command = [sys.executable, "-m", "infra.local.mercadolibre", "--host", "127.0.0.1"]
        sandbox_command += ["--port", str(self.sandbox_port), "--state-file", str(self.folder / "ml.json")]
        self.services["mercadolibre"] = Service("mercadolibre", sandbox_command, self.logs, echo=False)
        chalice = str(Path(sys.executable).with_name("chalice"))
        api_command = [chalice, "local", "--stage", "local", "--host", "127.0.0.1"]
        api_command += ["--port", str(self.api_port), "--no-autoreload"]
        self.services["api"] = Service("api", api_command, self.logs, echo=False)
        self._wait_for(f"{self.api}/health", "api")
        self._wait_for(f"{sandbox}/_sandbox/health", "mercadolibre")

    def _wait_for(self, url: str, name: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.services[name].alive():
                raise RuntimeError(f"{name} stopped; see {self.services[name].log_path}")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer within {seconds:.0f} s")

    def start_events(self, workers: int) -> Service:
        self.stop_events()
        command = [sys.executable, "-m", "infra.local.runtime", "--workers", str(workers)]
        self.services["events"] = Service("events", command, self.logs, echo=False)
        return self.services["events"]

    def stop_events(self) -> None:
        events = self.services.pop("events", None)
        if events is not None:
            events.stop()

    def pid(self, name: str) -> int:
        return self.services[name].process.pid

    def stop(self) -> None:
        # Nothing new comes in, running steps finish, then what they call; the emulator last.
        for name in ("api", "events", "mercadolibre"):
            service = self.services.pop(name, None)
            if service is not None:
                service.stop()
        if self.moto is not None and self.moto.poll() is None:
            os.killpg(self.moto.pid, signal.SIGTERM)
            try:
                self.moto.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.moto.pid, signal.SIGKILL)
                self.moto.wait()
        self._folder.cleanup()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(api: str, email: str) -> str:
    answer = requests.post(
        f"{api}/auth/register", json={"email": email, "password": "a long benchmark password"}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def create_product(api: str, token: str, prompt: str, photos: list[bytes]) -> dict[str, Any]:
    declared: list[dict[str, Any]] = [
        {"file_name": f"{n}.jpg", "content_type": "image/jpeg", "size": len(p)} for n, p in enumerate(photos)
    ]
    answer = requests.post(
        f"{api}/products", json={"prompt": prompt, "images": declared}, headers=auth(token), timeout=30
    )
    if answer.status_code != 201:
        raise RuntimeError(f"creating a product failed: {answer.status_code} {answer.text}")
    return answer.json()  # type: ignore[no-any-return]


def upload(session: requests.Session, form: dict[str, Any], data: bytes) -> None:
    sent = session.post(form["url"], data=form["fields"], files={"file": ("photo.jpg", data)}, timeout=60)
    if sent.status_code not in (200, 204):
        raise RuntimeError(f"upload failed: {sent.status_code} {sent.text[:200]}")
