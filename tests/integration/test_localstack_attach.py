"""`make test-localstack`'s attach-to-running path, against the embedded moto server.

There is no Docker engine here, so the container path cannot run; what can is checked for real:
attaching (pytest-localstack's RunningSession probes every service the suite uses), clients
through localstack-client, the suite re-run against an external endpoint through conftest's
LOCALSTACK_ENDPOINT seam, and the honest refusal when there is neither an endpoint nor Docker.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid

import boto3
import pytest

from infra.deploy import localstack
from infra.local.emulator import free_port
from infra.local.environment import ROOT


def test_attaching_checks_every_service_the_suite_uses(aws: str) -> None:
    session = localstack.attach(aws, timeout=10)
    assert set(session.services) == set(localstack.SERVICES)
    assert {session.endpoint_url(name) for name in localstack.SERVICES} == {aws}


def test_localstack_client_sessions_reach_the_same_endpoint_as_the_app(aws: str) -> None:
    bucket = f"attach-{uuid.uuid4().hex[:12]}"
    localstack.boto3_session(aws).client("s3").create_bucket(Bucket=bucket)
    names = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]  # the app's way
    assert bucket in names


def test_an_endpoint_where_nothing_answers_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(localstack.LocalStackMissing, match=f"nothing at {nowhere} answered as AWS"):
        localstack.attach(nowhere, timeout=1)
    with pytest.raises(localstack.LocalStackMissing, match="not an http"):
        localstack.attach("127.0.0.1:4566")


def test_without_an_endpoint_or_docker_it_says_what_is_missing_and_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LOCALSTACK_ENDPOINT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    ran: list[object] = []

    def run_suite(*args: object) -> int:
        ran.append(args)
        return 0

    monkeypatch.setattr(localstack, "run_suite", run_suite)

    assert localstack.main([]) == 2
    error = capsys.readouterr().err
    assert "LOCALSTACK_ENDPOINT is not set" in error
    assert "Docker does not answer at unix:///nonexistent/docker.sock" in error
    assert ran == []


def test_the_suite_runs_against_an_endpoint_that_is_already_up(aws: str) -> None:
    """`make test-localstack` with LOCALSTACK_ENDPOINT: conftest attaches instead of starting moto."""
    ssm = boto3.client("ssm")
    with contextlib.suppress(ssm.exceptions.ParameterNotFound):  # an earlier test may have written it
        ssm.delete_parameter(Name="/intellipost/test/jwt-secret")
    env = {**os.environ, "LOCALSTACK_ENDPOINT": aws}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.deploy.localstack",
            "tests/integration/test_secrets.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Attached to LocalStack at {aws}" in result.stdout
    assert "2 passed" in result.stdout
    # The parameter the test wrote is in *this* emulator: the child used it, not a moto of its own.
    parameter = ssm.get_parameter(Name="/intellipost/test/jwt-secret")
    assert parameter["Parameter"]["Type"] == "SecureString"
