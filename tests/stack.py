"""`make run`'s stack, started as a developer starts it, in a state folder of its own: its ports,
its console and logs, its queues, and a seller signing up over HTTP. Whatever happens in the test,
the stack and every process of it are gone when `running()` ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import requests

from infra.local.emulator import free_port, port_is_free
from infra.local.environment import ROOT, stage_environment
from infra.local.processes import die_with_parent
from tests.conftest import stop_process_group
from tests.processes import Process, carrying, descendants, end
from tests.waiting import wait_for

LOCAL = stage_environment("local")


class Stack:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.api_port = free_port()
        self.emulator_port = free_port()
        self.sandbox_port = free_port()
        self.panel_port = free_port()  # served when web/build exists
        self.api = f"http://127.0.0.1:{self.api_port}/api/v1"
        self.endpoint = f"http://127.0.0.1:{self.emulator_port}"
        self.runs = 0

    @contextmanager
    def running(self, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
        env.update(
            API_PORT=str(self.api_port),
            EMULATOR_PORT=str(self.emulator_port),
            SANDBOX_PORT=str(self.sandbox_port),
            PANEL_PORT=str(self.panel_port),
            INTELLIPOST_STATE_DIR=str(self.state_dir),
            SNAPSHOT_EVERY_SECONDS="1",
            **settings,
        )
        self.runs += 1
        console = self._console_path().open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.stack"],
            cwd=ROOT,
            env=env,
            stdout=console,
            stderr=console,
            start_new_session=True,
            preexec_fn=die_with_parent,  # and its children die with it: nothing outlives a killed pytest
        )
        try:
            wait_for(lambda: "Press Ctrl-C" in self.console(), 90, "the stack to start")
            yield process
        finally:
            # The stack and every process of it (its children run in their own sessions), even
            # when the test failed half-way: each carries the state folder in its environment.
            stop_process_group(process)
            end(carrying("INTELLIPOST_STATE_DIR", str(self.state_dir)))
            console.close()

    def _console_path(self) -> Path:
        return self.state_dir / f"console-{self.runs}.log"

    def console(self) -> str:
        """What the current run printed."""
        return self._console_path().read_text(errors="replace")

    def client(self, service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, endpoint_url=self.endpoint)

    def child(self, process: subprocess.Popen[bytes], module: str) -> Process:
        """The stack's child running `module` (its current one, after restarts)."""
        [found] = [p for p in descendants(process.pid) if p.running and module in p.command]
        return found

    def queues_idle(self) -> bool:
        """Every event queue of the app empty: nothing waiting, nothing in flight, nothing delayed."""
        sqs = self.client("sqs")
        for url in sqs.list_queues(QueueNamePrefix=LOCAL["EVENT_QUEUE_PREFIX"]).get("QueueUrls", []):
            counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if any(
                counts[f"ApproximateNumberOfMessages{kind}"] != "0" for kind in ("", "NotVisible", "Delayed")
            ):
                return False
        return True

    def in_flight(self) -> bool:
        """Some event is held by the runtime right now (taken, not yet deleted)."""
        sqs = self.client("sqs")
        for url in sqs.list_queues(QueueNamePrefix=LOCAL["EVENT_QUEUE_PREFIX"]).get("QueueUrls", []):
            counts = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
            )
            if counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"] != "0" and not url.endswith(
                "-dlq"
            ):
                return True
        return False

    def logs(self) -> str:
        """Every log the stack wrote and every console line it printed, all runs."""
        texts = [path.read_text(errors="replace") for path in sorted(self.state_dir.glob("console-*.log"))]
        texts += [
            path.read_text(errors="replace") for path in sorted((self.state_dir / "logs").glob("*.log"))
        ]
        return "\n".join(texts)

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`make backup`/`make restore` as a developer runs them: the state folder, no endpoint."""
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "EMULATOR_PORT")}
        env["INTELLIPOST_STATE_DIR"] = str(self.state_dir)
        return subprocess.run(
            [sys.executable, "-m", "infra.local.backup", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def dropped_uploads(self, key: str) -> int:
        log = self.state_dir / "logs" / "events.log"
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return sum(1 for line in lines if line.get("message") == "upload dropped" and line.get("key") == key)

    def stop_like_ctrl_c(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        for port in (self.api_port, self.emulator_port, self.sandbox_port, self.panel_port):
            assert port_is_free(port), f"port {port} is still bound after Ctrl-C"

    def register(self, email: str) -> str:
        """A new seller signed up over HTTP: their access token."""
        tokens = requests.post(
            f"{self.api}/auth/register", json={"email": email, "password": "a long password"}, timeout=10
        ).json()
        return str(tokens["access_token"])
