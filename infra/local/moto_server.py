"""moto server, held to three things AWS does that moto does not.

- **Atomic DynamoDB writes.** DynamoDB applies each request to an item atomically, so a conditional
  write (`status = declared`) lets exactly one of two racing deliveries through; the pipeline's
  exactly-once steps rest on that. moto's server is threaded and its DynamoDB backend takes no lock,
  so two racing requests can both pass a condition: DynamoDB requests are serialized here (they
  take milliseconds); S3 and SQS, long polls included, stay concurrent.
- **Presigned POST policies.** S3 checks a browser upload's policy (signature, expiry, key, content
  type, size); moto stores anything. Uploads are checked here first (infra/local/post_policy.py).
- **Queues readable without receiving.** SQS has no way to read a message another consumer holds
  in flight, so a snapshot could only keep the visible ones. `GET /_local/sqs/<region>/<account>/
  <queue>` lists every message of a queue, in flight and delayed included, without touching it
  (infra/local/snapshot.py uses it).

And two things for speed, with the same answers. moto 5 writes every DynamoDB answer with its generic
serializer, which looks up each member of each attribute value in the botocore model (ten
candidates per value, each through alias providers): three quarters of a GetItem's or Query's time.
Attribute values are written here directly, byte for byte as the generic serializer writes them
(tests/integration/test_emulator.py compares the two). And moto routes every request by listing its
own package folder (a stat per service, under its dispatcher's lock): listed once here.

    python -m infra.local.moto_server -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import StructureShape
from moto import backends
from moto.core import serialize
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.formparser import parse_form_data
from werkzeug.serving import run_simple
from werkzeug.wsgi import get_input_stream

from infra.local.environment import EMULATOR_CREDENTIALS
from infra.local.post_policy import Refusal, Upload, check

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
QUEUE_MESSAGES = "/_local/sqs/"
# The only credentials the emulator knows: the throwaway pair every local client uses.
SECRETS = {EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"]: EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}


def one_dynamodb_request_at_a_time(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))  # the whole answer, inside the lock

    return serialized


class DynamoDBSerializer(serialize.JSONSerializer):
    """moto's JSON serializer, with attribute values (items, keys) written without the model walk."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: StructureShape, key: str) -> None:
        if shape.name != "AttributeValue" or not isinstance(value, dict):
            super()._serialize_type_structure(serialized, value, shape, key)
        elif key:  # as the generic one: nothing for None, and the value under its key
            serialized[key] = self._attribute_value(value)

    def _attribute_value(self, value: dict[str, Any]) -> dict[str, Any]:
        """What the generic serializer makes of one {type: value}: the model's members in its order,
        None left out, strings str()'d, binaries base64'd, maps and lists value by value."""
        out: dict[str, Any] = {}
        for member in _ATTRIBUTE_VALUE_MEMBERS:
            v = value.get(member)
            if v is None:
                continue
            if member in ("S", "N"):
                out[member] = _string(v)
            elif member == "B":
                out[member] = self._base64(v)
            elif member in ("SS", "NS"):
                out[member] = [_string(x) if x is not None else None for x in v]
            elif member == "BS":
                out[member] = [self._base64(x) if x is not None else None for x in v]
            elif member == "M":
                out[member] = {k: self._attribute_value(x) for k, x in v.items() if x is not None}
            elif member == "L":
                out[member] = [self._attribute_value(x) if x is not None else None for x in v]
            else:  # NULL, BOOL
                out[member] = v
        return out


# The members of DynamoDB's AttributeValue, in the model's order (the order the generic one writes).
_ATTRIBUTE_VALUE_MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


def _string(value: Any) -> Any:
    # serialize.BaseJSONSerializer._serialize_type_string, without the Enum case items never have
    return str(value) if value not in (None, {}, []) else value


def speed_up_moto() -> None:
    """DynamoDB answers written by DynamoDBSerializer (moto's own per-service hook), and moto's service
    folders listed once (they do not change while it runs)."""
    serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": DynamoDBSerializer}
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def presigned_posts_checked(app: WsgiApp, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> WsgiApp:
    """A browser upload (POST multipart/form-data to a bucket) reaches moto only if S3 would store it."""

    def checked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        is_form = environ.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")
        if environ["REQUEST_METHOD"] != "POST" or not is_form:
            return app(environ, start_response)
        body = get_input_stream(environ).read()
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        fields: dict[str, str] = {}
        for name, value in form.items(multi=True):
            key = name.lower()
            fields[key] = f"{fields[key]},{value}" if key in fields else value  # repeated: joined
        uploads = [part for name, part in files.items(multi=True) if name.lower() == "file"]
        if len(uploads) > 1:
            return _error(
                start_response,
                Refusal(400, "IncorrectNumberOfFilesInPostRequest", "POST requires exactly one file upload."),
            )
        size = len(uploads[0].read()) if uploads else len(fields.get("file", "").encode())
        upload = Upload(bucket=_bucket(environ), fields=fields, file_size=size)
        refusal = check(upload, SECRETS, now())
        if refusal is not None:
            return _error(start_response, refusal)
        # moto reads the body again, as it came.
        again = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return app(again, start_response)

    return checked


def _bucket(environ: dict[str, Any]) -> str:
    """Path style (/bucket), else virtual-hosted style (bucket.host)."""
    path = str(environ.get("PATH_INFO", "/")).strip("/")
    return path.split("/", 1)[0] if path else str(environ.get("HTTP_HOST", "")).split(".", 1)[0]


def _error(start_response: Callable[..., Any], refusal: Refusal) -> list[bytes]:
    details = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in refusal.details.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message>{details}"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>local</HostId></Error>"
    ).encode()
    start_response(
        f"{refusal.status} {refusal.code}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def queue_messages_readable(app: WsgiApp) -> WsgiApp:
    def readable(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "GET" or not path.startswith(QUEUE_MESSAGES):
            return app(environ, start_response)
        region, account, queue = [*path.removeprefix(QUEUE_MESSAGES).split("/"), "", ""][:3]
        try:
            messages = _every_message(region, account, queue)
        except KeyError:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"no queue {queue!r} in {account}/{region}\n".encode()]
        body = "".join(json.dumps(message) + "\n" for message in messages).encode()
        headers = [("Content-Type", "application/x-ndjson"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    return readable


def _every_message(region: str, account: str, queue_name: str) -> list[dict[str, Any]]:
    from moto.sqs.models import sqs_backends

    queues = sqs_backends[account][region].queues
    if queue_name not in queues:
        raise KeyError(queue_name)
    queue = queues[queue_name]
    with queue._messages_lock:  # moto's own lock around its message list
        return [{"body": m.body, "attributes": dict(m.message_attributes)} for m in queue._messages]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto.server does: some URLs it makes use it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    speed_up_moto()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto.server does
    run_simple(
        args.host,
        args.port,
        one_dynamodb_request_at_a_time(queue_messages_readable(presigned_posts_checked(app))),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
