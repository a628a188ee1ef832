"""The local event runtime: S3 events reach the functions as they would in Lambda.

S3 sends each ObjectCreated notification to the handler's queue (see provision.py). The runtime
long-polls every queue and invokes the registered handler with the real event record, one record
per invocation, on a bounded worker pool. Run as a program, each invocation runs in one of a pool
of worker processes sized to the cores, as each Lambda invocation has a process of its own (threads
of one process would share one core: the steps are CPU-bound); a worker that dies mid-step fails
that invocation, which is retried like any failure, and a new pool takes its place.

A message is deleted only after its handler returned, so a runtime killed mid-step loses nothing:
the message becomes visible again and is redelivered (its workers die with it).
Failures are retried with exponential backoff and jitter; after `max_attempts` the message moves to
the handler's dead-letter queue with the reason, and the app's `failures` function is invoked with
the record Lambda's on-failure destination holds in AWS (the product fails with a retry instead of
waiting for ever). The app's scheduled `watchdog` runs every `watchdog_seconds`.

    python -m infra.local.runtime [--app app:app]           run until SIGINT/SIGTERM
    python -m infra.local.runtime replay-dead-letters       send dead letters back for another try
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import os
import queue
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Chalice

from infra.local.environment import DEFAULT_ENDPOINT, emulator_environment, function_timeout
from infra.local.wiring import EventRoute, event_routes

log = Logger(service="event-runtime")

Handler = Callable[[dict[str, Any], Any], Any]


class LocalLambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: int, memory_mb: int = 1024) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Subscription:
    route: EventRoute
    queue_url: str
    dead_letter_queue_url: str
    handler: Handler
    timeout_seconds: int
    rank: int  # the step's place in the pipeline: the later, the sooner it gets a worker
    # The poller's heartbeat, written by its own thread only: polls finished, messages taken. A poll
    # that started after a moment and finished empty proves nothing was waiting at that moment.
    polls: int = 0
    received: int = 0


def scheduled_event() -> dict[str, Any]:
    """What EventBridge hands a scheduled function (its documented "Scheduled Event" shape)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/watchdog"],
        "detail": {},
    }


class HandlerFailed(Exception):
    """A handler raised in a worker process; the worker logged the traceback, this carries the reason."""


# The app a worker process loaded, set once by `_start_worker`.
_WORKER_APP: Chalice | None = None


def _start_worker(app_spec: str, inference_threads: int) -> None:
    """A worker process: loads the app once, leaves stopping to the runtime, and dies with it."""
    global _WORKER_APP
    # Its share of the cores for onnxruntime, unless the environment says otherwise.
    os.environ.setdefault("INFERENCE_THREADS", str(inference_threads))
    # Ctrl-C and `make run`'s SIGTERM reach the whole process group: the runtime decides when a
    # worker stops (after its running step), so the worker ignores them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = os.getppid()

    def orphaned() -> None:  # a runtime killed with -9 cannot shut its pool down
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=orphaned, name="orphaned", daemon=True).start()
    _WORKER_APP = load_app(app_spec)


def _invoke_in_worker(handler_name: str, event: dict[str, Any], timeout_seconds: int) -> str | None:
    """Runs in a worker process: None when the handler returned, else why it failed.

    The reason travels as text: an exception object may not survive pickling back."""
    assert _WORKER_APP is not None
    try:
        _WORKER_APP.handler_map[handler_name](event, LocalLambdaContext(handler_name, timeout_seconds))
    except Exception as error:
        log.exception("handler failed", extra={"handler": handler_name})
        return f"{type(error).__name__}: {error}"
    return None


class WorkerProcesses:
    """Worker processes that each load the app, one pool of one process per worker.

    A worker killed mid-step (as an out-of-memory kill would) costs only the step it was running,
    as a Lambda invocation's death does: a shared pool would break whole and fail the step running
    beside it too, which then ran twice."""

    def __init__(self, app_spec: str, processes: int) -> None:
        self.app_spec = app_spec
        self.processes = processes
        self._idle: queue.SimpleQueue[ProcessPoolExecutor] = queue.SimpleQueue()
        for _ in range(processes):
            self._idle.put(self._new_worker())

    def _new_worker(self) -> ProcessPoolExecutor:
        # spawn, not fork: the runtime has threads (pollers, boto3), and a forked child inherits
        # whatever locks they held.
        return ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.app_spec, max(1, (os.cpu_count() or 1) // self.processes)),
        )

    def invoke(self, handler_name: str, event: dict[str, Any], timeout_seconds: int) -> None:
        worker = self._idle.get()
        try:
            reason = worker.submit(_invoke_in_worker, handler_name, event, timeout_seconds).result()
        except BrokenProcessPool as error:
            worker = self._new_worker()
            raise HandlerFailed("the worker process died mid-step") from error
        finally:
            self._idle.put(worker)
        if reason is not None:
            raise HandlerFailed(reason)

    def shutdown(self) -> None:
        for _ in range(self.processes):
            self._idle.get().shutdown(wait=True)


class Slots:
    """The workers, handed to the event of the step furthest down the pipeline first.

    In AWS every function has its own concurrency: a product's images step never waits behind other
    products' uploads. Here the steps share the workers, so a free one goes to the latest step
    waiting: products in flight finish before new ones start, instead of every product advancing
    one step at a time. `rank` is the step's place in the pipeline (the app registers its steps in
    that order).
    """

    def __init__(self, count: int) -> None:
        self._free = count
        self._ready = threading.Condition()
        self._waiting: dict[int, int] = {}

    def acquire(self, rank: int, timeout: float) -> bool:
        with self._ready:
            self._waiting[rank] = self._waiting.get(rank, 0) + 1
            try:
                taken = self._ready.wait_for(lambda: self._free > 0 and not self._later_waits(rank), timeout)
                if taken:
                    self._free -= 1
                return taken
            finally:
                self._waiting[rank] -= 1
                self._ready.notify_all()  # one waiting less: an earlier step may now go

    def release(self) -> None:
        with self._ready:
            self._free += 1
            self._ready.notify_all()

    def _later_waits(self, rank: int) -> bool:
        return any(waiting and later > rank for later, waiting in self._waiting.items())


def backoff_seconds(attempt: int, base: float, cap: float) -> int:
    """Exponential backoff with full jitter, whole seconds as SQS wants them (at least 1)."""
    return max(1, int(random.uniform(0, min(cap, base * 2 ** (attempt - 1)))))


class EventRuntime:
    def __init__(
        self,
        app: Chalice,
        queue_prefix: str,
        *,
        workers: int = 4,
        max_attempts: int = 3,
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        wait_seconds: int = 2,
        visibility_seconds: int | None = None,
        watchdog_seconds: float = 60.0,
        stage: str = "local",
        processes_load: str | None = None,
    ) -> None:
        """`processes_load` ("module:attribute" of the same app): run the handlers in `workers`
        worker processes that load it; without it they run in threads of this process (tests that
        patch the app in-process rely on that)."""
        self.sqs = boto3.client(
            "sqs", config=Config(retries={"max_attempts": 2}, read_timeout=wait_seconds + 10)
        )
        self.workers = workers
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.wait_seconds = wait_seconds
        # How long a received message stays hidden: the function's timeout plus a margin, so a
        # killed runtime's message comes back soon after the step could have finished.
        self.visibility_seconds = visibility_seconds
        self.stop = threading.Event()
        self.app = app
        self.watchdog_seconds = watchdog_seconds
        self._slots = Slots(workers)
        self._processes = WorkerProcesses(processes_load, workers) if processes_load else None
        # Messages put back with a backoff delay: handed back at shutdown so none hides from a snapshot.
        self._delayed: dict[str, str] = {}
        self._delayed_lock = threading.Lock()
        self.subscriptions = [
            Subscription(
                route=route,
                queue_url=self.sqs.get_queue_url(QueueName=route.queue_name)["QueueUrl"],
                dead_letter_queue_url=self.sqs.get_queue_url(QueueName=route.dead_letter_queue_name)[
                    "QueueUrl"
                ],
                handler=app.handler_map[route.handler_name],
                timeout_seconds=function_timeout(route.handler_name, stage),
                rank=rank,
            )
            for rank, route in enumerate(event_routes(app, queue_prefix))
        ]

    # -- polling ---------------------------------------------------------------------------------

    def run(self) -> None:
        log.info(
            "event runtime started",
            extra={"queues": [s.route.queue_name for s in self.subscriptions], "workers": self.workers},
        )
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="handler") as pool:
            pollers = [
                threading.Thread(target=self._poll, args=(sub, pool), name=f"poll-{sub.route.handler_name}")
                for sub in self.subscriptions
            ]
            pollers.append(threading.Thread(target=self._watch, name="watchdog"))
            for poller in pollers:
                poller.start()
            for poller in pollers:
                poller.join()
            # Leaving the `with` waits for the handlers already running: a graceful stop finishes them.
        if self._processes is not None:
            self._processes.shutdown()
        self._hand_back_delayed()
        log.info("event runtime stopped")

    def _poll(self, sub: Subscription, pool: ThreadPoolExecutor) -> None:
        """Receive one message at a time and wait for a free worker before taking the next.

        Pollers hold no worker while they wait on an empty queue, so a busy queue cannot starve a
        quiet one, and no poller hoards messages the pool cannot run yet.
        """
        failures = 0
        while not self.stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=sub.queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=self.wait_seconds,
                    VisibilityTimeout=self.visibility_seconds or sub.timeout_seconds + 30,
                    AttributeNames=["ApproximateReceiveCount"],
                ).get("Messages", [])
                failures = 0
                sub.received += len(messages)
                sub.polls += 1
            except (BotoCoreError, ClientError) as error:
                # The emulator is down or restarting: back off, keep trying, never crash.
                failures += 1
                delay = min(self.backoff_cap, self.backoff_base * 2 ** min(failures, 6))
                log.warning(
                    "cannot reach the queue; retrying",
                    extra={"queue": sub.route.queue_name, "error": str(error), "retry_in_s": delay},
                )
                self.stop.wait(delay)
                continue
            for message in messages:
                while not self._slots.acquire(sub.rank, timeout=0.5):
                    if self.stop.is_set():
                        self._hand_back(sub.queue_url, message["ReceiptHandle"])
                        return
                pool.submit(self._process_and_release, sub, message)

    def _watch(self) -> None:
        """The app's scheduled watchdog, every `watchdog_seconds`, as EventBridge runs it in AWS."""
        watchdog = self.app.handler_map.get("watchdog")
        while watchdog is not None and not self.stop.wait(self.watchdog_seconds):
            try:
                watchdog(scheduled_event(), self._context("watchdog"))
            except Exception:  # the next round tries again; the runtime outlives it
                log.exception("the watchdog failed")

    def _context(self, handler_name: str) -> LocalLambdaContext:
        return LocalLambdaContext(handler_name, function_timeout(handler_name, "local"))

    def _hand_back(self, queue_url: str, receipt: str) -> None:
        """Make a held message visible again at once; one already redelivered or gone needs nothing."""
        with contextlib.suppress(ClientError):
            self.sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)

    def _process_and_release(self, sub: Subscription, message: dict[str, Any]) -> None:
        try:
            self.process(sub, message)
        except Exception:  # the runtime must outlive any bug in a handler or in itself
            log.exception("unexpected runtime error", extra={"queue": sub.route.queue_name})
        finally:
            self._slots.release()

    # -- one message -----------------------------------------------------------------------------

    def process(self, sub: Subscription, message: dict[str, Any]) -> None:
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            records = json.loads(message["Body"]).get("Records")
        except (ValueError, AttributeError) as error:
            self._dead_letter(sub, message, attempt, f"the message is not an S3 event: {error}")
            return
        if records is None:  # s3:TestEvent and the like carry no records: nothing to do
            self._delete(sub, message)
            return
        try:
            for record in records:
                self._invoke(sub, {"Records": [record]})
        except Exception as error:
            reason = str(error) if isinstance(error, HandlerFailed) else f"{type(error).__name__}: {error}"
            if attempt >= self.max_attempts:
                log.exception("handler failed for the last time", extra=self._about(sub, message, attempt))
                self._dead_letter(sub, message, attempt, reason)
            else:
                delay = backoff_seconds(attempt, self.backoff_base, self.backoff_cap)
                log.warning(
                    "handler failed; will retry",
                    extra={**self._about(sub, message, attempt), "reason": reason, "retry_in_s": delay},
                )
                self._delay(sub, message, delay)
            return
        self._delete(sub, message)

    def _invoke(self, sub: Subscription, event: dict[str, Any]) -> None:
        if self._processes is not None:
            self._processes.invoke(sub.route.handler_name, event, sub.timeout_seconds)
        else:
            sub.handler(event, LocalLambdaContext(sub.route.handler_name, sub.timeout_seconds))

    def _about(self, sub: Subscription, message: dict[str, Any], attempt: int) -> dict[str, Any]:
        return {"handler": sub.route.handler_name, "message_id": message["MessageId"], "attempt": attempt}

    def _delete(self, sub: Subscription, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=sub.queue_url, ReceiptHandle=message["ReceiptHandle"])
        with self._delayed_lock:
            self._delayed.pop(message["MessageId"], None)

    def _delay(self, sub: Subscription, message: dict[str, Any], seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=sub.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=seconds
        )
        with self._delayed_lock:
            self._delayed[message["MessageId"]] = f"{sub.queue_url}\n{message['ReceiptHandle']}"

    def _dead_letter(self, sub: Subscription, message: dict[str, Any], attempt: int, reason: str) -> None:
        self.sqs.send_message(
            QueueUrl=sub.dead_letter_queue_url,
            MessageBody=message["Body"],
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
                "attempts": {"DataType": "Number", "StringValue": str(attempt)},
                "handler": {"DataType": "String", "StringValue": sub.route.handler_name},
            },
        )
        log.error(
            "moved to the dead-letter queue", extra={**self._about(sub, message, attempt), "reason": reason}
        )
        self._delete(sub, message)
        self._report_given_up(sub, message, attempt, reason)

    def _report_given_up(self, sub: Subscription, message: dict[str, Any], attempt: int, reason: str) -> None:
        """Hand `failures` Lambda's on-failure destination record for each given-up event."""
        failures = self.app.handler_map.get("failures")
        try:
            records = json.loads(message["Body"]).get("Records") or []
        except (ValueError, AttributeError):
            return
        error_type, _, error_message = reason.partition(": ")
        for record in records:
            given_up = {
                "version": "1.0",
                "requestContext": {
                    "condition": "RetriesExhausted",
                    "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{sub.route.handler_name}",
                    "approximateInvokeCount": attempt,
                },
                "requestPayload": {"Records": [record]},
                "responsePayload": {"errorType": error_type, "errorMessage": error_message},
            }
            sqs_event = {"Records": [{"body": json.dumps(given_up), "receiptHandle": uuid.uuid4().hex}]}
            try:
                if failures is not None:
                    failures(sqs_event, self._context("failures"))
            except Exception:  # the dead letter stays for `make replay-dead-letters`
                log.exception("the failures function failed", extra=self._about(sub, message, attempt))

    def _hand_back_delayed(self) -> None:
        with self._delayed_lock:
            held = list(self._delayed.values())
            self._delayed.clear()
        for entry in held:
            self._hand_back(*entry.split("\n", 1))

    # -- dead letters ----------------------------------------------------------------------------

    def replay_dead_letters(self) -> int:
        """Send every dead letter back to its handler's queue; returns how many went back."""
        replayed = 0
        for sub in self.subscriptions:
            while True:
                messages = self.sqs.receive_message(
                    QueueUrl=sub.dead_letter_queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    VisibilityTimeout=60,
                ).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    self.sqs.send_message(QueueUrl=sub.queue_url, MessageBody=message["Body"])
                    self.sqs.delete_message(
                        QueueUrl=sub.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                    replayed += 1
        return replayed


def load_app(spec: str) -> Chalice:
    module_name, _, attribute = spec.partition(":")
    app = getattr(importlib.import_module(module_name), attribute or "app")
    if not isinstance(app, Chalice):
        raise SystemExit(f"{spec} is not a Chalice app")
    return app


def main(argv: list[str] | None = None) -> None:
    # Started by `make run` the environment is already set; alone, point at the default emulator.
    for name, value in emulator_environment(os.environ.get("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT)).items():
        os.environ.setdefault(name, value)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="run", choices=["run", "replay-dead-letters"])
    parser.add_argument("--app", default="app:app", help="module:attribute of the Chalice app")
    parser.add_argument("--queue-prefix", default=os.environ.get("EVENT_QUEUE_PREFIX"))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("EVENT_WORKERS", "0")) or os.cpu_count() or 1,
        help="worker processes (default: one per core)",
    )
    parser.add_argument("--max-attempts", type=int, default=int(os.environ.get("EVENT_MAX_ATTEMPTS", "3")))
    parser.add_argument(
        "--backoff-base", type=float, default=float(os.environ.get("EVENT_BACKOFF_BASE", "2"))
    )
    parser.add_argument(
        "--visibility-seconds", type=int, default=int(os.environ.get("EVENT_VISIBILITY_SECONDS", "0")) or None
    )
    parser.add_argument(
        "--watchdog-seconds", type=float, default=float(os.environ.get("WATCHDOG_EVERY_SECONDS", "60"))
    )
    args = parser.parse_args(argv)
    if not args.queue_prefix:
        raise SystemExit(
            "EVENT_QUEUE_PREFIX is not set (it comes from the local stage in .chalice/config.json)"
        )

    runtime = EventRuntime(
        load_app(args.app),
        args.queue_prefix,
        workers=args.workers,
        max_attempts=args.max_attempts,
        backoff_base=args.backoff_base,
        visibility_seconds=args.visibility_seconds,
        watchdog_seconds=args.watchdog_seconds,
        processes_load=args.app,
    )
    if args.command == "replay-dead-letters":
        print(f"{runtime.replay_dead_letters()} dead letters sent back for another try")
        return

    def stop(signum: int, _frame: object) -> None:
        log.info("stopping: finishing the handlers already running", extra={"signal": signum})
        runtime.stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    runtime.run()


if __name__ == "__main__":
    main()
