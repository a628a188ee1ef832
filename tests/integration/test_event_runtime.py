"""The local event runtime against the emulator: delivery, retries, dead letters, bounded workers."""

from __future__ import annotations

import contextlib
import json
import multiprocessing.resource_tracker
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from chalice.app import Chalice, S3Event

from infra.local.provision import provision_resources, switch_on_events
from infra.local.runtime import EventRuntime, backoff_seconds, load_app
from tests.runtime import running

BUCKET = "runtime-test-bucket"
PREFIX = "runtime-test"


class Recorder:
    def __init__(self) -> None:
        self.keys: list[str] = []
        self.running = 0
        self.most_running = 0
        self.lock = threading.Lock()
        self.behaviour: Callable[[str], None] = lambda key: None

    def __call__(self, event: S3Event) -> None:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.behaviour(event.key)
            with self.lock:
                self.keys.append(event.key)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def recorder(aws: str) -> Iterator[tuple[Recorder, Callable[..., EventRuntime]]]:
    recorder = Recorder()
    app = Chalice(app_name="runtime-test")

    @app.on_s3_event(bucket=BUCKET, events=["s3:ObjectCreated:*"], prefix="in/", name="step")
    def step(event: S3Event) -> None:
        recorder(event)

    prefix = f"{PREFIX}-{uuid.uuid4().hex[:8]}"
    routes = provision_resources(app, prefix, (), {BUCKET}, visibility_timeout=30)
    switch_on_events(routes)
    with contextlib.ExitStack() as runtimes:

        def start(**options: Any) -> EventRuntime:
            return runtimes.enter_context(running(EventRuntime(app, prefix, wait_seconds=1, **options)))

        yield recorder, start


def _wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def _queue_depth(runtime: EventRuntime, dead_letters: bool = False) -> int:
    sub = runtime.subscriptions[0]
    url = sub.dead_letter_queue_url if dead_letters else sub.queue_url
    attributes = runtime.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_an_object_reaches_its_handler_once_and_the_message_is_deleted(recorder) -> None:  # type: ignore[no-untyped-def]
    calls, start = recorder
    runtime = start()
    boto3.client("s3").put_object(Bucket=BUCKET, Key="in/a photo.jpg", Body=b"x")
    boto3.client("s3").put_object(Bucket=BUCKET, Key="elsewhere/b.jpg", Body=b"x")  # filtered out
    _wait_for(lambda: calls.keys == ["in/a photo.jpg"])
    _wait_for(lambda: _queue_depth(runtime) == 0)
    # Nothing came twice: two more polls of the queue, begun after it was empty, took nothing.
    sub = runtime.subscriptions[0]
    polls, taken = sub.polls, sub.received
    _wait_for(lambda: sub.polls >= polls + 2)
    assert sub.received == taken
    assert calls.keys == ["in/a photo.jpg"]


def test_a_failing_handler_is_retried_then_dead_lettered_with_its_reason(recorder) -> None:  # type: ignore[no-untyped-def]
    calls, start = recorder
    attempts: list[str] = []

    def always_fail(key: str) -> None:
        attempts.append(key)
        raise ValueError("the photo could not be read")

    calls.behaviour = always_fail
    runtime = start(max_attempts=2, backoff_base=1)
    boto3.client("s3").put_object(Bucket=BUCKET, Key="in/poison.jpg", Body=b"x")
    # Dead-lettered, then deleted from its queue (in that order, so a crash between loses nothing).
    _wait_for(lambda: _queue_depth(runtime, dead_letters=True) == 1 and _queue_depth(runtime) == 0)
    assert attempts == ["in/poison.jpg", "in/poison.jpg"]
    [letter] = runtime.sqs.receive_message(
        QueueUrl=runtime.subscriptions[0].dead_letter_queue_url,
        MessageAttributeNames=["All"],
        VisibilityTimeout=0,
    )["Messages"]
    assert letter["MessageAttributes"]["reason"]["StringValue"] == "ValueError: the photo could not be read"
    assert letter["MessageAttributes"]["attempts"]["StringValue"] == "2"
    assert unquote_plus(json.loads(letter["Body"])["Records"][0]["s3"]["object"]["key"]) == "in/poison.jpg"

    # Once the cause is fixed, the documented replay sends it back and it goes through.
    calls.behaviour = lambda key: None
    assert runtime.replay_dead_letters() == 1
    _wait_for(lambda: calls.keys == ["in/poison.jpg"])
    assert _queue_depth(runtime, dead_letters=True) == 0


def test_a_message_that_is_not_an_s3_event_goes_straight_to_dead_letters(recorder) -> None:  # type: ignore[no-untyped-def]
    calls, start = recorder
    runtime = start(max_attempts=5)
    runtime.sqs.send_message(QueueUrl=runtime.subscriptions[0].queue_url, MessageBody="{not json")
    _wait_for(lambda: _queue_depth(runtime, dead_letters=True) == 1)
    assert calls.keys == []


def test_handlers_run_on_a_bounded_pool(recorder) -> None:  # type: ignore[no-untyped-def]
    calls, start = recorder
    release = threading.Event()
    calls.behaviour = lambda key: release.wait(30)  # every handler holds its worker until released
    runtime = start(workers=2)
    sub = runtime.subscriptions[0]
    s3 = boto3.client("s3")
    for n in range(6):
        s3.put_object(Bucket=BUCKET, Key=f"in/{n}.jpg", Body=b"x")
    # Two handlers run at once, and a third message, already taken, waits for a free worker.
    _wait_for(lambda: calls.running == 2 and sub.received >= 3)
    assert calls.most_running == 2
    release.set()
    _wait_for(lambda: len(calls.keys) == 6)
    assert calls.most_running == 2  # never a third at once, however the six were spread


@pytest.mark.parametrize("attempt", [1, 2, 5, 10])
def test_backoff_grows_but_stays_capped(attempt: int) -> None:
    delays = {backoff_seconds(attempt, base=2, cap=30) for _ in range(200)}
    assert min(delays) >= 1
    assert max(delays) <= min(30, 2 * 2 ** (attempt - 1))


def test_a_pipeline_test_starts_on_empty_event_queues(
    provisioned: str, request: pytest.FixtureRequest
) -> None:
    """What an earlier test left in the app's queues (an upload nobody processed, a retry waiting) is
    gone before the runtime of the next pipeline test starts: it takes nothing in its first polls."""
    sqs = boto3.client("sqs")
    urls = sqs.list_queues(QueueNamePrefix=os.environ["EVENT_QUEUE_PREFIX"])["QueueUrls"]
    for url in urls:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"left": "by an earlier test"}))
    runtime = request.getfixturevalue("events_running")  # what a pipeline test asks for
    polls = {sub.route.queue_name: sub.polls for sub in runtime.subscriptions}
    _wait_for(lambda: all(sub.polls >= polls[sub.route.queue_name] + 2 for sub in runtime.subscriptions))
    assert {sub.route.queue_name: sub.received for sub in runtime.subscriptions} == dict.fromkeys(polls, 0)
    for url in urls:  # dead letters too
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_worker_processes_run_the_steps_and_a_worker_killed_mid_step_costs_one_retry_of_its_step(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `make run` runs it: each step in a worker process (both cores), none lost when one dies,
    and the step running beside it in the other worker neither stopped nor run twice."""
    spec = "tests.fixtures.worker_app:app"
    bucket = "worker-step-bucket"
    monkeypatch.setenv("WORKER_BUCKET", bucket)
    app = load_app(spec)
    prefix = f"{PREFIX}-{uuid.uuid4().hex[:8]}"
    switch_on_events(provision_resources(app, prefix, (), {bucket}, visibility_timeout=30))
    s3 = boto3.client("s3")

    def ran(key: str) -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"ran/{key}/").get("Contents", [])
        return [item["Key"].rsplit("/", 1)[1] for item in listed]

    options = {"workers": 2, "max_attempts": 2, "backoff_base": 1, "processes_load": spec}
    with running(EventRuntime(app, prefix, wait_seconds=1, **options)) as runtime:
        for key in ("in/beside.jpg", "in/die.jpg", "in/fail.jpg"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        _wait_for(lambda: ran("in/beside.jpg") and ran("in/die.jpg") and _queue_depth(runtime, True) == 1, 60)
        _wait_for(lambda: _queue_depth(runtime) == 0)
        [letter] = runtime.sqs.receive_message(
            QueueUrl=runtime.subscriptions[0].dead_letter_queue_url, MessageAttributeNames=["All"]
        )["Messages"]
    # Spawning started multiprocessing's resource tracker, which would live as long as pytest.
    multiprocessing.resource_tracker._resource_tracker._stop()  # type: ignore[attr-defined]
    # The handler's reason crossed the process boundary as it was raised.
    assert letter["MessageAttributes"]["reason"]["StringValue"] == "ValueError: the photo could not be read"
    # Killed once (its marker), then run to the end once, by a fresh worker: not this process.
    assert s3.list_objects_v2(Bucket=bucket, Prefix="died/in/die.jpg")["KeyCount"] == 1
    [a_pid], [die_pid] = ran("in/beside.jpg"), ran("in/die.jpg")
    assert str(os.getpid()) not in (a_pid, die_pid)
    # The step beside it was running when the worker died (it waited for the retry), and started once.
    started = s3.list_objects_v2(Bucket=bucket, Prefix="started/in/beside.jpg/")["Contents"]
    assert [item["Key"].rsplit("/", 1)[1] for item in started] == [a_pid]
    # Each of the two workers has its share of the cores for onnxruntime.
    given = s3.get_object(Bucket=bucket, Key=f"ran/in/beside.jpg/{a_pid}")["Body"].read().decode()
    assert given == str(max(1, (os.cpu_count() or 1) // 2))
