"""`make run`: the whole product on its embedded defaults, on loopback, until Ctrl-C.

Starts (in this order) the emulator (moto server, unless AWS_ENDPOINT_URL already points at a
running one), provisions it, restores the last snapshot, switches on the S3 events, then the API
(`chalice local`), the event runtime and the panel (web/build behind infra/local/panel.py, with the
API on the same origin). SIGINT/SIGTERM stops them in reverse order, by PID, after a final
snapshot; nothing is left listening.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from infra.local import emulator
from infra.local.environment import ROOT, STATE_DIR, apply, emulator_environment
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID as SANDBOX_CLIENT_ID
from infra.local.mercadolibre.state import DEFAULT_CLIENT_SECRET as SANDBOX_CLIENT_SECRET

PANEL_BUILD = ROOT / "web" / "build"
SNAPSHOT_EVERY_SECONDS = float(os.environ.get("SNAPSHOT_EVERY_SECONDS", "15"))


class Service:
    """A child process in its own process group, its output prefixed on our console and logged."""

    def __init__(self, name: str, args: list[str], log_dir: Path, echo: bool = True) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._pump = threading.Thread(target=self._copy_output, args=(echo,), daemon=True)
        self._pump.start()

    def _copy_output(self, echo: bool) -> None:
        assert self.process.stdout is not None
        with self.log_path.open("ab") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                if echo:
                    sys.stdout.write(f"[{self.name}] {line.decode(errors='replace')}")
                    sys.stdout.flush()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_seconds: float = 20) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._pump.join(timeout=5)


def _say(message: str, out: IO[str] = sys.stdout) -> None:
    out.write(message + "\n")
    out.flush()


def main() -> int:
    api_port = int(os.environ.get("API_PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8300"))
    # Where the API, the panel and the sandbox listen: loopback unless told otherwise (docker-compose
    # sets 0.0.0.0 inside its container, whose published ports stay on the host's loopback).
    listen_host = os.environ.get("LISTEN_HOST", "127.0.0.1")
    emulator_port = int(os.environ.get("EMULATOR_PORT", "4566"))
    panel_port = int(os.environ.get("PANEL_PORT", "8080"))
    panel_url = f"http://127.0.0.1:{panel_port}"
    # `make run` sets PANEL=off when the panel could not be built (no Node 20.19+).
    panel_built = (PANEL_BUILD / "index.html").is_file() and os.environ.get("PANEL", "on") != "off"
    state_dir = STATE_DIR
    logs = state_dir / "logs"

    external = os.environ.get("AWS_ENDPOINT_URL")
    if external and emulator.is_up(external):
        endpoint, moto = external, None
        _say(f"Using the emulator already running at {endpoint} (its own persistence applies).")
    else:
        ports = (api_port, sandbox_port, *((panel_port,) if panel_built else ()))
        busy = [port for port in ports if not emulator.port_is_free(port)]
        if busy:
            _say(
                f"Port {busy[0]} is in use: is another `make run` running? "
                "Set API_PORT/SANDBOX_PORT/PANEL_PORT.",
                sys.stderr,
            )
            return 1
        endpoint = f"http://127.0.0.1:{emulator_port}"
        moto = emulator.start_moto(emulator_port, log=logs / "emulator.log")
    env = emulator_environment(endpoint)
    env.update(local_secrets(state_dir / "secrets"))
    # The MercadoLibre sandbox stands in for api.mercadolibre.com and its sign-in pages.
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env.update(
        MERCADOLIBRE_API_URL=sandbox_url,
        MERCADOLIBRE_AUTH_URL=sandbox_url,
        MERCADOLIBRE_CLIENT_ID=SANDBOX_CLIENT_ID,
        MERCADOLIBRE_REDIRECT_URI=f"http://127.0.0.1:{api_port}/api/v1/ml/callback",
    )
    if panel_built:
        # After connecting MercadoLibre the seller lands back on the panel's settings page.
        env["PANEL_URL"] = panel_url
    apply(env)

    # Imported after the environment is set: the models read their table names at import.
    from app import app
    from chalicelib.store.models import ALL_MODELS
    from infra.local.provision import provision_resources, switch_on_events
    from infra.local.snapshot import Snapshot

    bucket = env["MEDIA_BUCKET"]
    routes = provision_resources(app, env["EVENT_QUEUE_PREFIX"], ALL_MODELS, {bucket})
    tables = [model.Meta.table_name for model in ALL_MODELS]
    queues = [name for route in routes for name in (route.queue_name, route.dead_letter_queue_name)]
    snapshot = Snapshot(state_dir / "snapshot") if moto is not None else None
    if snapshot is not None and snapshot.exists:
        counts = snapshot.restore()
        _say(
            f"Restored the last session: {counts['items']} rows, {counts['objects']} objects, "
            f"{counts['messages']} waiting events."
        )
    switch_on_events(routes)

    chalice = str(Path(sys.executable).with_name("chalice"))
    api_command = [chalice, "local", "--stage", "local", "--host", listen_host, "--port", str(api_port)]
    sandbox_command = [sys.executable, "-m", "infra.local.mercadolibre", "--host", listen_host]
    sandbox_command += ["--port", str(sandbox_port), "--state-file", str(state_dir / "mercadolibre.json")]
    api = Service("api", [*api_command, "--no-autoreload"], logs)
    # Stopped in this order: nothing new comes in, running steps finish, then what they call.
    services = [
        api,
        Service("events", [sys.executable, "-m", "infra.local.runtime"], logs),
        Service("mercadolibre", sandbox_command, logs),
    ]
    if panel_built:
        panel_command = [
            sys.executable,
            "-m",
            "infra.local.panel",
            "--host",
            listen_host,
            "--port",
            str(panel_port),
        ]
        services.insert(0, Service("panel", [*panel_command, "--api-port", str(api_port)], logs, echo=False))
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    if not _wait_for_api(api_port, api, stopping):
        _say(f"The API did not start; see {api.log_path}", sys.stderr)
        stopping.set()
    else:
        panel_line = (
            f"Panel: {panel_url}\n"
            if panel_built
            else "Panel: not served (it needs Node 20.19+ to build: see README, then `make web`)\n"
        )
        _say(
            f"\n{panel_line}"
            "IntelliPost is running on its embedded defaults (local emulator, no keys):\n"
            f"  API              http://127.0.0.1:{api_port}/api/v1  (try /api/v1/health/detailed)\n"
            f"  AWS emulator     {endpoint}  ({'moto server' if moto else 'external'})\n"
            f"  MercadoLibre     {sandbox_url}  (the local sandbox: test seller, real categories)\n"
            f"  S3 event runtime {len(routes)} handler(s): {', '.join(r.handler_name for r in routes)}\n"
            f"  State and logs   {state_dir}  (`make clean` wipes it)\n"
            "Press Ctrl-C to stop.\n"
        )

    last_snapshot = time.monotonic()
    exit_code = 0
    while not stopping.wait(0.5):
        dead = [service.name for service in services if not service.alive()]
        if dead:
            _say(f"{', '.join(dead)} stopped unexpectedly; see {logs}. Shutting down.", sys.stderr)
            exit_code = 1
            break
        if snapshot is not None and time.monotonic() - last_snapshot >= SNAPSHOT_EVERY_SECONDS:
            snapshot.save(tables, [bucket])
            last_snapshot = time.monotonic()

    _say("Stopping: panel and API, then event runtime (finishing running steps), then saving state...")
    for service in services:
        service.stop()
    if snapshot is not None:
        snapshot.save(tables, [bucket])
        waiting = snapshot.save_queues(queues)
        _say(f"State saved in {snapshot.folder} ({waiting} waiting events kept).")
    if moto is not None:
        os.killpg(moto.pid, signal.SIGTERM)
        try:
            moto.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(moto.pid, signal.SIGKILL)
            moto.wait()
    _say("Stopped.")
    return exit_code


def local_secrets(folder: Path) -> dict[str, str]:
    """The local stack's secrets: from the environment when set, else made once and kept in `folder`."""
    makers: dict[str, Callable[[], str]] = {
        "JWT_SECRET": lambda: secrets.token_urlsafe(48),
        "TOKENS_LOCAL_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    chosen = {
        name: os.environ.get(name) or local_secret(folder / name.lower(), make)
        for name, make in makers.items()
    }
    # The sandbox's app secret is public (infra/local/mercadolibre); a real one never lives here.
    chosen["MERCADOLIBRE_CLIENT_SECRET"] = os.environ.get("MERCADOLIBRE_CLIENT_SECRET", SANDBOX_CLIENT_SECRET)
    return chosen


def local_secret(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(48)) -> str:
    """Generated once and kept in the state folder (mode 600), so sessions and tokens survive restarts."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


def _wait_for_api(port: int, api: Service, stopping: threading.Event, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/v1/health"
    while time.monotonic() < deadline and not stopping.is_set():
        if not api.alive():
            return False
        if emulator.is_up(url):
            return True
        time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(main())
