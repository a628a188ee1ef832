"""Shared fixtures. The environment is the local stage's, pointed at an emulator on a free port.

It is set at import, before any test imports the app: the models read their table names then.
Unit tests never start the emulator; the `aws` fixture starts moto server once per session.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import emulator
from infra.local.environment import apply, emulator_environment

EMULATOR_PORT = emulator.free_port()
ENDPOINT = f"http://127.0.0.1:{EMULATOR_PORT}"
apply(emulator_environment(ENDPOINT))
os.environ.pop("PHOTOROOM_API_KEY", None)
os.environ.pop("GEMINI_API_KEY", None)


def stop_process_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server for this test session; its log lands in the session's temp folder."""
    log: Path = tmp_path_factory.mktemp("emulator") / "moto.log"
    process = emulator.start_moto(EMULATOR_PORT, log=log)
    yield ENDPOINT
    stop_process_group(process)


@pytest.fixture(scope="session")
def provisioned(aws: str) -> str:
    """The app's bucket, tables, queues and S3 notifications, as `make run` creates them."""
    from app import app
    from chalicelib.storage.models import ALL_MODELS
    from infra.local.provision import provision_resources, switch_on_events

    routes = provision_resources(
        app, os.environ["EVENT_QUEUE_PREFIX"], ALL_MODELS, {os.environ["MEDIA_BUCKET"]}
    )
    switch_on_events(routes)
    return aws
