"""The chaos suite's tools: a runtime that delivers twice and out of order, a cuttable emulator link,
a seller's product through the real upload path, the invariants every scenario ends on, the report.

Everything binds 127.0.0.1 on free ports; every process started here is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from infra.local.environment import ROOT
from infra.local.processes import die_with_parent
from infra.local.runtime import EventRuntime, Subscription
from tests.conftest import stop_process_group
from tests.photos import grocery_photo
from tests.selling import declared
from tests.waiting import wait_for

BUCKET = os.environ["MEDIA_BUCKET"]
QUEUE_PREFIX = os.environ["EVENT_QUEUE_PREFIX"]
# Two real photos at the smallest size the upload rules take (348 px shots, 3x: 1044x1044).
PHOTOS = [grocery_photo("Oatly-Oat-Milk", shot) for shot in ("001", "002")]
PROMPT = "leche de avena oatly 1 litro"
COPY_MARK = "chaos_copy"
# Where each step is stopped to be killed: between two of its writes, where a crash hurts most.
STALLS = [
    ("ingest", "chalicelib.pipeline:advance"),  # photo recorded, images job not written
    ("images", "chalicelib.images:_record_pictures"),  # main picture stored, not recorded, no content job
    ("content", "chalicelib.pipeline:ready_or_publish"),  # listing version saved, product not ready
    ("publish", "chalicelib.publish:_describe"),  # item created on MercadoLibre, no description
]


# -- the report -------------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    faults: int = 0
    products: int = 0
    completed: int = 0
    duplicated: int = 0
    lost: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


ROWS: list[Row] = []


@contextlib.contextmanager
def scenario(name: str) -> Iterator[Row]:
    row = Row(name)
    started = time.monotonic()
    try:
        yield row
    finally:
        row.seconds = time.monotonic() - started
        ROWS.append(row)


def report_table(rows: list[Row]) -> str:
    lines = [
        "| scenario | faults injected | products completed | items duplicated | data lost | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.faults} | {r.completed}/{r.products} | {r.duplicated} | {r.lost} "
            f"| {r.seconds:.0f} |"
        )
    total = Row(
        "**total**",
        faults=sum(r.faults for r in rows),
        products=sum(r.products for r in rows),
        completed=sum(r.completed for r in rows),
        duplicated=sum(r.duplicated for r in rows),
        lost=sum(r.lost for r in rows),
        seconds=sum(r.seconds for r in rows),
    )
    lines.append(
        f"| {total.scenario} | {total.faults} | {total.completed}/{total.products} | {total.duplicated} "
        f"| {total.lost} | {total.seconds:.0f} |"
    )
    notes = [f"- {r.scenario}: {note}" for r in rows for note in r.notes]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


# -- a runtime that delivers every event twice, out of order ----------------------------------------


class ChaosRuntime(EventRuntime):
    """The real runtime, plus faults: every event sent again (at a random delay, so copies overtake and
    trail other events), handler calls counted, and the first `fail_first[handler]` calls made to raise."""

    def __init__(
        self, *args: Any, duplicate: bool = False, fail_first: dict[str, int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.duplicate = duplicate
        self.fail_first = dict(fail_first or {})
        self.originals: list[tuple[str, str]] = []  # (queue url, body) of every event, in arrival order
        self.copies = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        for sub in self.subscriptions:
            sub.handler = self._watched(sub.route.handler_name, sub.handler)

    def _watched(self, name: str, handler: Any) -> Any:
        def run(event: dict[str, Any], context: Any) -> Any:
            with self.lock:
                injected = self.fail_first.get(name, 0) > 0
                if injected:
                    self.fail_first[name] -= 1
            try:
                if injected:
                    raise ChaosFault(f"injected failure in {name}")
                return handler(event, context)
            except Exception as error:
                with self.lock:
                    self.failures.append(f"{name}: {type(error).__name__}: {error}")
                raise

        return run

    def process(self, sub: Subscription, message: dict[str, Any]) -> None:
        body = message["Body"]
        if self.duplicate and COPY_MARK not in body:
            with contextlib.suppress(ValueError, AttributeError):
                copy = {**json.loads(body), COPY_MARK: True}
                self.sqs.send_message(
                    QueueUrl=sub.queue_url, MessageBody=json.dumps(copy), DelaySeconds=random.randint(0, 3)
                )
                with self.lock:
                    self.copies += 1
                    self.originals.append((sub.queue_url, body))
        super().process(sub, message)


class ChaosFault(RuntimeError):
    pass


def queues_idle(runtime: EventRuntime) -> bool:
    """Every queue of the app empty: nothing waiting, nothing in flight, nothing delayed."""
    for sub in runtime.subscriptions:
        attributes = runtime.sqs.get_queue_attributes(QueueUrl=sub.queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        for name in ("", "NotVisible", "Delayed"):
            if attributes.get(f"ApproximateNumberOfMessages{name}", "0") != "0":
                return False
    return True


# -- the runtime as a separate process, to be killed ------------------------------------------------


class RuntimeProcess:
    """`python -m tests.chaos.stalling_runtime`: the real runtime; `stall` names a function that stops
    (forever) the first time it is called, after touching `marker`, so a SIGKILL lands mid-step."""

    def __init__(self, log_dir: Path, endpoint: str | None = None) -> None:
        self.log_dir = log_dir
        self.endpoint = endpoint
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, stall: str | None = None, **env: str) -> Path:
        self.runs += 1
        marker = self.log_dir / f"stalled-{self.runs}"
        settings = {
            **os.environ,
            "EVENT_VISIBILITY_SECONDS": "12",  # a killed step's event is back 12 s after it was taken
            "EVENT_BACKOFF_BASE": "0.5",
            "CHAOS_STALL": stall or "",
            "CHAOS_STALL_MARKER": str(marker),
            **env,
        }
        if self.endpoint:
            settings["AWS_ENDPOINT_URL"] = self.endpoint
        log = (self.log_dir / f"runtime-{self.runs}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.stalling_runtime"],
            cwd=ROOT,
            env=settings,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        return marker

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # no goodbye: the step's message is still in flight
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)

    def log(self) -> str:
        return "".join(
            (self.log_dir / f"runtime-{n}.log").read_text(errors="replace") for n in range(1, self.runs + 1)
        )


# -- a link to the emulator that can be cut ---------------------------------------------------------


class Link:
    """A loopback TCP proxy in front of the emulator. `cut()` closes the port and every connection
    (the emulator is gone as far as the client can tell); `restore()` opens it again."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cuts = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self.cuts += 1
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._connections += [client, upstream]
            threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- a seller's product ------------------------------------------------------------------------------


def sell(seller: Any, photos: list[bytes] = PHOTOS, prompt: str = PROMPT) -> str:
    """Create the product and upload every photo with its presigned form, as the panel does."""
    created = seller.call("POST", "/products", {"prompt": prompt, "images": declared(photos)})
    assert created.status_code == 201, created.json
    upload(created.json["images"], photos)
    return str(created.json["product_id"])


def add_photos(seller: Any, product_id: str, photos: list[bytes] = PHOTOS) -> None:
    """The seller adds photos to a product, and uploads them."""
    added = seller.call("POST", f"/products/{product_id}/images", {"images": declared(photos)})
    assert added.status_code == 201, added.json
    upload([i for i in added.json["images"] if i["status"] == "declared"], photos)


def upload(images: list[dict[str, Any]], photos: list[bytes]) -> None:
    for image, data in zip(images, photos, strict=True):
        form = image["upload"]
        sent = requests.post(form["url"], data=form["fields"], files={"file": ("p.jpg", data)}, timeout=30)
        assert sent.status_code in (200, 204), sent.text


def product(seller: Any, product_id: str) -> dict[str, Any]:
    got = seller.call("GET", f"/products/{product_id}")
    assert got.status_code == 200, got.json
    return got.json  # type: ignore[no-any-return]


def wait_status(seller: Any, product_id: str, status: str, seconds: float = 120) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        got = product(seller, product_id)
        if got["status"] == "failed" and status != "failed":
            raise AssertionError(f"the product failed: {got['attention']}")
        return got if got["status"] == status else None

    return wait_for(reached, seconds, f"{product_id} to be {status}")  # type: ignore[return-value]


def timeline_codes(seller: Any, product_id: str) -> list[str]:
    return [event["code"] for event in product(seller, product_id)["events"] or []]


def published_once(seller: Any, product_id: str, sandbox: Any, item_id: str, row: Row) -> None:
    """The end of a scenario that sells one product: one MercadoLibre item, each milestone once, and
    the audit clean (its counts go into the report's row)."""
    assert sandbox.items(seller, product_id) == [item_id]
    codes = timeline_codes(seller, product_id)
    for code in ("PHOTOS_RECEIVED", "LISTING_READY", "PUBLISHED"):
        assert codes.count(code) == 1, (code, codes)
    found = audit(seller, product_id, sandbox)
    row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
    assert found.problems == []


@dataclass
class Audit:
    duplicated: int
    lost: int
    problems: list[str]


def audit(seller: Any, product_id: str, sandbox: Any | None = None) -> Audit:
    """What every scenario must end on: one result per step, no orphan object, nothing lost."""
    from chalicelib.store.models import ImageRow as Image
    from chalicelib.store.models import ListingVersionRow as ListingVersion
    from chalicelib.store.models import ProductRow as Product

    problems: list[str] = []
    duplicated = lost = 0
    stored = Product.get(seller.user_id, product_id, consistent_read=True)
    images = list(Image.query(product_id, consistent_read=True))
    versions = list(ListingVersion.query(product_id, consistent_read=True))
    # One generated version per revision.
    generated: dict[int, int] = {}
    for version in versions:
        if version.source == "generated":
            generated[int(version.revision)] = generated.get(int(version.revision), 0) + 1
    for revision, count in generated.items():
        if count > 1:
            duplicated += count - 1
            problems.append(f"{count} generated versions for revision {revision}")
    # One MercadoLibre item per product.
    if sandbox is not None and stored.item:
        items = sandbox.items(seller, product_id)
        if len(items) != 1 or items[0] != stored.item["id"]:
            duplicated += max(0, len(items) - 1)
            problems.append(f"items on MercadoLibre for this product: {items}")
    # Nothing lost: every accepted photo's original, the main picture, the current version.
    s3 = boto3.client("s3")
    keys = set()
    for prefix in (f"uploads/{seller.user_id}/{product_id}/", f"processed/{seller.user_id}/{product_id}/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys |= {obj["Key"] for obj in page.get("Contents", [])}
    wanted = {image.original_key for image in images if image.status == "accepted"}
    wanted |= {image.thumbnail_key for image in images if image.thumbnail_key}
    wanted |= {key for key in (stored.main_picture_key, stored.thumbnail_key) if key}
    mains = {v.main_picture_key for v in versions if v.main_picture_key}
    # Each main picture has its small copy for the products list beside it.
    referenced = wanted | mains | {key.removesuffix(".jpg") + "-thumb.jpg" for key in mains}
    for key in sorted(wanted - keys):
        lost += 1
        problems.append(f"missing object {key}")
    if int(stored.current_version) and int(stored.current_version) not in {int(v.version) for v in versions}:
        lost += 1
        problems.append(f"current version {stored.current_version} is missing")
    # No orphans: every object is referenced by a row (a main picture of a revision that was
    # superseded stays referenced by its listing version, so a restore can show it).
    for key in sorted(keys - referenced):
        problems.append(f"orphan object {key}")
    return Audit(duplicated, lost, problems)


def dead_letters(runtime: EventRuntime, needle: str) -> list[dict[str, Any]]:
    """Dead letters that mention `needle`, peeked (left in place), with their attributes."""
    found = []
    for sub in runtime.subscriptions:
        seen: set[str] = set()
        for _ in range(5):
            messages = runtime.sqs.receive_message(
                QueueUrl=sub.dead_letter_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            for message in messages:
                if message["MessageId"] not in seen and needle in message["Body"]:
                    found.append(message)
                seen.add(message["MessageId"])
    return found


# -- providers that fail on demand ------------------------------------------------------------------

# The double's values come from the seller's note (PROMPT), with the evidence Gemini reports.
NOTE_SAYS_IT = {"seen_on": [], "printed_as": None, "in_note": True, "confidence": 0.95}


class ProviderDouble:
    """PhotoRoom's and Gemini's wire formats on one loopback server, failing as `mode` says.

    PhotoRoom: `POST /v1/segment` answers the photo back as an opaque PNG cutout (mode "ok"), or
    `{"detail": ...}` with the status named by the mode ("500", "402"). Gemini: `POST
    /v1beta/models/{model}:generateContent` answers the JSON its response schema asks for (facts,
    attributes or copy, read from the request's schema), or Gemini's error body ("429"), an answer
    later than the client's timeout ("timeout"), or a 200 whose text is not JSON ("invalid-json").
    """

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        self.mode = "ok"
        self.calls: dict[str, int] = {}
        self.slow_seconds = 3.0
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        from werkzeug.wrappers import Request

        request = Request(environ)
        which = "photoroom" if request.path.endswith("/segment") else "gemini"
        self.calls[which] = self.calls.get(which, 0) + 1
        answer = self._photoroom if which == "photoroom" else self._gemini
        return answer(request, self.mode)(environ, start_response)

    def _photoroom(self, request: Any, mode: str) -> Any:
        import io

        from PIL import Image
        from werkzeug.wrappers import Response

        if mode in ("500", "402"):
            body = {"detail": f"double says {mode}", "status_code": int(mode), "type": "double"}
            return Response(json.dumps(body), status=int(mode), content_type="application/json")
        photo = Image.open(request.files["image_file"].stream).convert("RGBA")
        out = io.BytesIO()
        photo.save(out, format="PNG")
        return Response(out.getvalue(), content_type="image/png", headers={"x-uncertainty-score": "0.1"})

    def _gemini(self, request: Any, mode: str) -> Any:
        from werkzeug.wrappers import Response

        if mode == "429":
            body = {"error": {"code": 429, "message": "double is busy", "status": "RESOURCE_EXHAUSTED"}}
            return Response(json.dumps(body), status=429, content_type="application/json")
        if mode == "timeout":
            time.sleep(self.slow_seconds)
        schema = json.loads(request.get_data())["generationConfig"]["responseSchema"]["properties"]
        if mode == "invalid-json":
            text = "the listing is {not JSON"
        elif "attributes" in schema:
            # BRAND is in every sheet and required by most: the double answers it from the prompt.
            brand = {"id": "BRAND", "value_name": "Oatly", **NOTE_SAYS_IT}
            text = json.dumps({"attributes": [brand]})
        elif "title" in schema:
            text = json.dumps(
                {"title": "Leche De Avena Oatly 1 L", "description": "Leche de avena Oatly, 1 litro."}
            )
        else:
            text = json.dumps(
                {
                    "brand": {"value": "Oatly", "named_as_brand": False, **NOTE_SAYS_IT},
                    "product": {"value": "Leche de avena", **NOTE_SAYS_IT},
                    "specs": [],
                    "packaging_text": ["OATLY"],
                }
            )
        body = {
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 200, "totalTokenCount": 1200},
            "modelVersion": "gemini-3.5-flash-lite",
        }
        return Response(json.dumps(body), content_type="application/json")
