"""`make run`: the whole product on its embedded defaults, on loopback, until Ctrl-C.

Starts (in this order) the emulator (moto server, unless AWS_ENDPOINT_URL already points at a
running one), provisions it, restores the last snapshot, switches on the S3 events, then the API
(`chalice local`), the event runtime, the MercadoLibre sandbox and the panel (web/build behind
infra/local/panel.py, with the API on the same origin).

A child that dies is started again, with a line on the console and a delay that doubles while it
keeps dying (1 s up to 30 s); the emulator comes back with the last snapshot. Messages the event
runtime held when it died come back by their visibility timeout. Each child dies with the stack
(infra/local/processes.py), however the stack dies. SIGINT/SIGTERM stops them in reverse order, by
PID, after a final snapshot; nothing is left listening.

While it runs, `<state>/stack.json` says where (its PID and emulator): `make backup` reads the live
emulator from it and `make restore` refuses to run under it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from infra.local import emulator
from infra.local.environment import ROOT, STATE_DIR, apply, emulator_environment
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID as SANDBOX_CLIENT_ID
from infra.local.mercadolibre.state import DEFAULT_CLIENT_SECRET as SANDBOX_CLIENT_SECRET
from infra.local.processes import die_with_parent, stop_group
from infra.local.redaction import redact

PANEL_BUILD = ROOT / "web" / "build"
SNAPSHOT_EVERY_SECONDS = float(os.environ.get("SNAPSHOT_EVERY_SECONDS", "15"))
STACK_RECORD = "stack.json"
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long is started again after the first delay


class Service:
    """A child process in its own process group, its output prefixed on our console and logged
    (secrets redacted); started again, after a growing delay, when it dies."""

    def __init__(
        self,
        name: str,
        args: list[str],
        log_dir: Path,
        echo: bool = True,
        on_restart: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.args = args
        self.echo = echo
        self.on_restart = on_restart
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.delay = RESTART_FIRST_DELAY
        self.restart_at: float | None = None
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        # From the main thread only: a child's parent-death signal follows the thread that forked.
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.started = time.monotonic()
        self._pump = threading.Thread(target=self._copy_output, args=(self.process,), daemon=True)
        self._pump.start()

    def _copy_output(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in process.stdout:
                line = redact(raw.decode(errors="replace"))
                log.write(line.encode())
                log.flush()
                if self.echo:
                    sys.stdout.write(f"[{self.name}] {line}")
                    sys.stdout.flush()

    def alive(self) -> bool:
        return self.process.poll() is None

    def supervise(self, now: float) -> None:
        """Called by the main loop: a dead child is started again once its delay has passed."""
        if self.alive():
            if now - self.started >= HEALTHY_AFTER:
                self.delay = RESTART_FIRST_DELAY
            return
        if self.restart_at is None:
            self.restart_at = now + self.delay
            _say(
                f"{self.name} stopped ({_exit(self.process.returncode)}) after {now - self.started:.0f} s; "
                f"starting it again in {self.delay:.0f} s (its log: {self.log_path})",
                sys.stderr,
            )
            self.delay = min(self.delay * 2, RESTART_MAX_DELAY)
            return
        if now < self.restart_at:
            return
        self.restart_at = None
        self._pump.join(timeout=5)
        self._start()
        self.restarts += 1
        _say(f"{self.name} started again (restart {self.restarts}, pid {self.process.pid}).", sys.stderr)
        if self.on_restart is not None:
            try:
                self.on_restart()
            except Exception as error:  # it dies again, and the next try comes after a longer delay
                _say(f"{self.name} could not be brought back: {error}", sys.stderr)
                stop_group(self.process, grace_seconds=5)

    def stop(self, grace_seconds: float = 20) -> None:
        stop_group(self.process, grace_seconds)
        self._pump.join(timeout=5)


def _exit(code: int | None) -> str:
    return f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"


def _say(message: str, out: IO[str] = sys.stdout) -> None:
    out.write(message + "\n")
    out.flush()


def running_stack(state_dir: Path) -> dict[str, Any] | None:
    """The `make run` holding this state folder, or None: its record, if its process still runs."""
    try:
        record: dict[str, Any] = json.loads((state_dir / STACK_RECORD).read_text())
        pid = int(record["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no record, or its process is gone (a `kill -9` leaves the file behind)
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"infra.local.stack" not in cmdline.read_bytes():
        return None  # the PID was reused by another program
    return record


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

    other = running_stack(state_dir)
    if other is not None:
        _say(
            f"`make run` is already running on {state_dir} (pid {other['pid']}, emulator "
            f"{other['endpoint']}): stop it first, or set INTELLIPOST_STATE_DIR to another folder.",
            sys.stderr,
        )
        return 1
    external = os.environ.get("AWS_ENDPOINT_URL")
    if external and emulator.is_up(external):
        endpoint = external
        _say(f"Using the emulator already running at {endpoint} (its own persistence applies).")
        own_emulator = False
    else:
        endpoint = f"http://127.0.0.1:{emulator_port}"
        own_emulator = True
    ports = [
        api_port,
        sandbox_port,
        *([panel_port] if panel_built else []),
        *([emulator_port] if own_emulator else []),
    ]
    busy = [port for port in ports if not emulator.port_is_free(port)]
    if busy:
        _say(
            f"Port {busy[0]} is in use: is another `make run` running? "
            "Set API_PORT/SANDBOX_PORT/PANEL_PORT/EMULATOR_PORT.",
            sys.stderr,
        )
        return 1
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
    tables = [model.Meta.table_name for model in ALL_MODELS]
    snapshot = Snapshot(state_dir / "snapshot") if own_emulator else None

    def bring_up_emulator() -> list[Any]:
        """Wait for it, provision it, load the last snapshot, then switch the S3 events on."""
        emulator.wait_until_up(endpoint, moto.process if moto else None)
        routes = provision_resources(app, env["EVENT_QUEUE_PREFIX"], ALL_MODELS, {bucket})
        if snapshot is not None and snapshot.exists:
            counts = snapshot.restore()
            _say(
                f"Restored the last session: {counts['items']} rows, {counts['objects']} objects, "
                f"{counts['messages']} events."
            )
        switch_on_events(routes)
        return routes

    moto: Service | None = None
    if own_emulator:
        moto = Service("emulator", emulator.moto_command(emulator_port), logs, echo=False)
        moto.on_restart = bring_up_emulator
    record = state_dir / STACK_RECORD
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps({"pid": os.getpid(), "endpoint": endpoint, "started_at": datetime.now(UTC).isoformat()})
    )
    try:
        routes = bring_up_emulator()
    except Exception as error:
        _say(f"The emulator did not start: {error}; see {logs / 'emulator.log'}", sys.stderr)
        if moto is not None:
            moto.stop()
        record.unlink(missing_ok=True)
        return 1
    queues = [name for route in routes for name in (route.queue_name, route.dead_letter_queue_name)]

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

    exit_code = 0
    if not _wait_for_api(api_port, api, stopping):
        _say(f"The API did not start; see {api.log_path}", sys.stderr)
        stopping.set()
        exit_code = 1
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

    children = [*services, *((moto,) if moto else ())]
    last_snapshot = time.monotonic()
    saving = _Saver(snapshot, tables, [bucket], queues)
    while not stopping.wait(0.5):
        for child in children:
            child.supervise(time.monotonic())
            if stopping.is_set():
                break
        due = time.monotonic() - last_snapshot >= SNAPSHOT_EVERY_SECONDS
        if due and moto is not None and moto.alive() and moto.restart_at is None:
            saving.save()
            last_snapshot = time.monotonic()

    _say("Stopping: panel and API, then event runtime (finishing running steps), then saving state...")
    for service in services:
        service.stop()
    if moto is not None:
        if moto.alive():
            kept = saving.save()
            if kept is not None:
                _say(f"State saved in {state_dir / 'snapshot'} ({kept} events kept).")
        moto.stop(grace_seconds=10)
    record.unlink(missing_ok=True)
    _say("Stopped.")
    return exit_code


class _Saver:
    """The periodic snapshot; an emulator that does not answer skips a save, said once, never fatal."""

    def __init__(self, snapshot: Any, tables: list[str], buckets: list[str], queues: list[str]) -> None:
        self.snapshot = snapshot
        self.parts = (tables, buckets, queues)
        self.failing = False

    def save(self) -> int | None:
        if self.snapshot is None:
            return None
        try:
            kept: int = self.snapshot.save(*self.parts)
        except (BotoCoreError, ClientError, requests.RequestException, OSError) as error:
            if not self.failing:
                _say(f"Snapshot skipped, the emulator did not answer: {error}", sys.stderr)
            self.failing = True
            return None
        self.failing = False
        return kept


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
