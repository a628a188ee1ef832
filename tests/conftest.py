"""Shared fixtures. The environment is the local stage's, pointed at an emulator on a free port.

It is set at import, before any test imports the app: the models read their table names then.
Unit tests never start the emulator; the `aws` fixture starts moto server once per session.

Nothing a test starts outlives the run: fixtures stop what they started and check it stopped
(threads joined, processes and their whole trees gone, sockets closed), and the session's end
fails the run if any process, thread or listening socket is left (tests/processes.py).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import emulator
from infra.local.environment import apply, emulator_environment
from tests.processes import (
    LINUX,
    become_subreaper,
    descendants,
    end,
    listening_sockets,
    other_threads,
    reap,
    stop_tree,
)

EMULATOR_PORT = emulator.free_port()
# `make test-localstack` sets LOCALSTACK_ENDPOINT: the same suite then runs against that endpoint.
LOCALSTACK_ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT")
ENDPOINT = LOCALSTACK_ENDPOINT or f"http://127.0.0.1:{EMULATOR_PORT}"
apply(emulator_environment(ENDPOINT))
os.environ["JWT_SECRET"] = secrets.token_urlsafe(48)
os.environ["TOKENS_LOCAL_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
os.environ["MERCADOLIBRE_CLIENT_SECRET"] = "local-sandbox-secret"
os.environ.pop("PHOTOROOM_API_KEY", None)
os.environ.pop("GEMINI_API_KEY", None)
# Orphans of what a test started come to pytest, not init: the session's end can find them.
SUBREAPER = become_subreaper()
# Gemini's and PhotoRoom's APIs on loopback: the `gemini` and `photoroom` fixtures.
pytest_plugins = ["tests.gemini_api", "tests.photoroom_api"]


def stop_process_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """`sig` to the process's group, then every process below it, wherever it runs; waits until
    they are all gone (SIGKILL after a grace)."""
    stop_tree(process, sig)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process, a thread or a listening socket outlives the tests."""
    if not LINUX:
        return
    left = [p for p in descendants() if p.running]
    for zombie in (p for p in descendants() if not p.running):
        reap(zombie)
    end(left, grace_seconds=5)
    threads, sockets = other_threads(), listening_sockets()
    if not (left or threads or sockets):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"process {p.pid} (stopped now): {p.command[:200]}" for p in left]
    lines += [f"thread still running: {name}" for name in threads]
    lines += [f"socket still listening: {where}" for where in sockets]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "left behind by the tests", red=True)
        for line in lines:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server for this test session; its log lands in the session's temp folder."""
    if LOCALSTACK_ENDPOINT:
        from infra.deploy.localstack import attach

        attach(LOCALSTACK_ENDPOINT)  # every service the suite uses answers, or a clear error
        yield ENDPOINT
        return
    log: Path = tmp_path_factory.mktemp("emulator") / "moto.log"
    process = emulator.start_moto(EMULATOR_PORT, log=log)
    try:
        yield ENDPOINT
    finally:
        stop_process_group(process)


@pytest.fixture(scope="session")
def provisioned(aws: str) -> str:
    """The app's bucket, tables, queues and S3 notifications, as `make run` creates them."""
    from app import app
    from chalicelib.store.models import ALL_MODELS
    from infra.local.provision import provision_resources, switch_on_events

    routes = provision_resources(
        app, os.environ["EVENT_QUEUE_PREFIX"], ALL_MODELS, {os.environ["MEDIA_BUCKET"]}
    )
    switch_on_events(routes)
    return aws


# -- the API, as the panel calls it ------------------------------------------------------------------


class Api:
    """chalice.test's client for the real app on the local stage, speaking JSON."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        body = None if json_body is None else json.dumps(json_body)
        response = getattr(self.client.http, method.lower())(f"/api/v1{path}", headers=sent, body=body)
        response.json = json.loads(response.body) if response.body else None
        return response

    def seller(self, email: str | None = None, password: str = "correct horse battery") -> Any:
        email = email or f"seller-{uuid.uuid4().hex[:10]}@example.com"
        response = self.call("POST", "/auth/register", {"email": email, "password": password})
        assert response.status_code == 201, response.json
        return Seller(self, email, password, response.json)


class Seller:
    def __init__(self, api: Api, email: str, password: str, tokens: dict[str, Any]) -> None:
        self.api = api
        self.email = email
        self.password = password
        self.tokens = tokens
        self.user_id = tokens["user"]["user_id"]

    def call(self, method: str, path: str, json_body: Any = None) -> Any:
        return self.api.call(method, path, json_body, token=self.tokens["access_token"])


@pytest.fixture
def api(provisioned: str) -> Iterator[Api]:
    from chalice.test import Client

    from app import app
    from infra.local.environment import ROOT

    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        yield Api(client)


@pytest.fixture
def clean_queues(provisioned: str) -> None:
    """Every event queue of the app and its dead letters emptied: what an earlier test left (an
    upload nobody processed, a retry) does not run inside this test's waits."""
    from app import app
    from infra.local.wiring import event_routes

    sqs = boto3.client("sqs")
    for route in event_routes(app, os.environ["EVENT_QUEUE_PREFIX"]):
        for name in (route.queue_name, route.dead_letter_queue_name):
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            try:
                sqs.purge_queue(QueueUrl=url)
            except ClientError as error:  # AWS and LocalStack allow one purge a minute: drain instead
                if "PurgeQueueInProgress" not in error.response["Error"]["Code"]:
                    raise
                while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                    for message in batch:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def events_running(clean_queues: None, sandbox: Any) -> Iterator[Any]:
    """The local event runtime on the real app, in this process: uploads reach ingest as in `make run`."""
    from app import app
    from infra.local.runtime import EventRuntime
    from tests.runtime import running

    with running(
        EventRuntime(app, os.environ["EVENT_QUEUE_PREFIX"], wait_seconds=1, backoff_base=1)
    ) as runtime:
        yield runtime


# -- the MercadoLibre sandbox, over real HTTP ---------------------------------------------------------


class SandboxClock:
    def __init__(self) -> None:
        import time

        self.offset = 0.0
        self._time = time.time

    def __call__(self) -> float:
        return self._time() + self.offset


class Sandbox:
    def __init__(self, url: str, state: Any, clock: SandboxClock) -> None:
        self.url = url
        self.state = state
        self.clock = clock

    def sign_in(self, authorization_url: str, nickname: str, **page: str) -> dict[str, str]:
        """What a seller's browser does on the sandbox's sign-in page (`page`: its other inputs, such
        as `kind="user_products"` or `data_pending="1"`); returns the callback's query."""
        from urllib.parse import parse_qs, urlsplit

        import requests

        shown = requests.get(authorization_url, timeout=10)
        assert shown.status_code == 200 and 'name="nickname"' in shown.text
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        answer = requests.post(
            f"{self.url}/authorization",
            data={**params, "nickname": nickname, "site_id": "MLA", **page},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}

    def faults(self, *answers: dict[str, Any], seed: int | None = None) -> None:
        """The sandbox's scripted answers (infra/local/mercadolibre/answers.py); none clears them."""
        import requests

        answer = requests.post(
            f"{self.url}/_sandbox/faults", json={"answers": answers, "seed": seed}, timeout=10
        )
        assert answer.status_code == 200, answer.text

    def items(self, seller: Any, sku: str) -> list[str]:
        """Every item of the seller on the sandbox whose SELLER_SKU attribute or seller_custom_field is
        `sku`: both searches, so an item carrying the SKU in the wrong field still counts as a duplicate."""
        import requests

        from chalicelib.marketplace import connection

        credentials = connection.credentials(seller.user_id)
        found: list[str] = []
        for parameter in ("seller_sku", "sku"):
            answer = requests.get(
                f"{self.url}/users/{credentials.ml_user_id}/items/search",
                params={parameter: sku},
                headers={"Authorization": f"Bearer {credentials.access_token}"},
                timeout=10,
            )
            found += [item for item in answer.json()["results"] if item not in found]
        return found

    def item(self, item_id: str) -> dict[str, Any]:
        """The item as anyone reads it (GET /items/{id} is public)."""
        import requests

        return requests.get(f"{self.url}/items/{item_id}", timeout=10).json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    from werkzeug.serving import make_server

    from chalicelib.marketplace.mercadolibre import get_mercadolibre
    from infra.local.mercadolibre.server import create_app
    from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, SandboxState

    clock = SandboxClock()
    state = SandboxState(clock=clock)
    app = create_app(state)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    os.environ.update(
        MERCADOLIBRE_API_URL=url,
        MERCADOLIBRE_AUTH_URL=url,
        MERCADOLIBRE_CLIENT_ID=DEFAULT_CLIENT_ID,
        MERCADOLIBRE_REDIRECT_URI="http://127.0.0.1:8000/api/v1/ml/callback",
    )
    get_mercadolibre.cache_clear()
    try:
        yield Sandbox(url, state, clock)
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["notifier"].close()
        thread.join(10)
        assert not thread.is_alive(), "the sandbox's server did not stop"
