"""Killing the event runtime (SIGKILL) while a step runs loses no event: it is redelivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest

from infra.local.environment import ROOT
from infra.local.processes import die_with_parent
from infra.local.provision import provision_resources, switch_on_events
from infra.local.runtime import load_app
from tests.conftest import stop_process_group
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

BUCKET = "slow-step-bucket"
QUEUE_PREFIX = "crash-test"


def _keys(prefix: str) -> list[str]:
    response = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [obj["Key"] for obj in response.get("Contents", [])]


def _start_runtime() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local.runtime",
            "--app",
            "tests.fixtures.slow_app:app",
            "--queue-prefix",
            QUEUE_PREFIX,
        ],
        cwd=ROOT,
        env={**os.environ, "SLOW_BUCKET": BUCKET, "SLOW_SECONDS": "3", "EVENT_VISIBILITY_SECONDS": "4"},
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


def test_a_step_killed_mid_flight_is_delivered_again(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOW_BUCKET", BUCKET)
    routes = provision_resources(load_app("tests.fixtures.slow_app:app"), QUEUE_PREFIX, (), {BUCKET})
    switch_on_events(routes)
    first = _start_runtime()
    try:
        boto3.client("s3").put_object(Bucket=BUCKET, Key="incoming/photo.jpg", Body=b"x")
        wait_for(lambda: _keys("started/"), 30, "the step to start")
        os.kill(first.pid, signal.SIGKILL)  # no goodbye: the message is still in flight
        first.wait()
        assert _keys("done/") == []
    finally:
        stop_process_group(first, signal.SIGKILL)

    second = _start_runtime()
    try:
        done = wait_for(lambda: _keys("done/"), 60, "the redelivered step to finish")
        assert len(done) == 1  # one completion: the killed run never finished
        sqs = boto3.client("sqs")
        for route in routes:
            for name in (route.queue_name, route.dead_letter_queue_name):
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                assert attributes["ApproximateNumberOfMessages"] == "0"
                assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    finally:
        stop_process_group(second)
