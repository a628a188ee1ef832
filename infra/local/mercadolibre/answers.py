"""Scripted answers for tests: `POST /_sandbox/faults` and the WSGI layer that applies them.

    {"answers": [{"method": "POST", "path": "/items", "status": 403, "body": {...}, "times": 1}],
     "latency_ms": 0, "seed": 7}

The next `times` requests matching method and path get exactly that status and JSON body (with
MercadoLibre's usual body for the status when `body` is left out, and `Retry-After: 1` on a 429);
without `times`, every matching request does; `share` answers only that fraction of them (seeded),
which is how a test makes a 429 storm. `drop: "after"` handles the request for real and then hangs
up without answering: the item exists and the client never hears so (a timeout or a reset, to
the client). `drop: "before"` hangs up without handling it. `/_sandbox/*` never gets an answer
scripted. Each POST replaces the whole script; `{}` clears it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from infra.local.mercadolibre.errors import ApiError, bad_request
from infra.local.mercadolibre.state import Answer, Faults, SandboxState

SANDBOX_HEADER = ("X-Sandbox", "intellipost-local")
METHODS = ("GET", "POST", "PUT", "DELETE")
DROPS = ("before", "after")


def parse_faults(body: Any) -> Faults:
    if not isinstance(body, dict):
        raise bad_request("a JSON object is required")
    unknown = set(body) - {"answers", "latency_ms", "seed"}
    if unknown:
        raise bad_request(f"unknown knobs {sorted(unknown)}: send answers, latency_ms, seed")
    latency, seed = body.get("latency_ms", 0), body.get("seed")
    if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
        raise bad_request("latency_ms: an integer >= 0")
    if not (seed is None or (isinstance(seed, int) and not isinstance(seed, bool))):
        raise bad_request("seed: an integer")
    answers = body.get("answers") or []
    if not isinstance(answers, list):
        raise bad_request("answers: a list")
    return Faults([parse_answer(index, answer) for index, answer in enumerate(answers)], latency, seed)


def parse_answer(index: int, raw: Any) -> Answer:
    def refuse(what: str) -> ApiError:
        return bad_request(f"answers[{index}]: {what}")

    if not isinstance(raw, dict):
        raise refuse("an object")
    unknown = set(raw) - {"path", "method", "status", "body", "headers", "times", "share", "drop"}
    if unknown:
        raise refuse(f"unknown fields {sorted(unknown)}")
    path, method, status = raw.get("path"), raw.get("method"), raw.get("status")
    times, share, drop = raw.get("times"), raw.get("share", 1.0), raw.get("drop")
    headers = raw.get("headers") or {}
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("/_sandbox/"):
        raise refuse("path: a path of the API, such as /items (a trailing * makes it a prefix)")
    if method is not None and method not in METHODS:
        raise refuse(f"method: one of {', '.join(METHODS)}")
    if (status is None) == (drop is None):
        raise refuse("either status (and body) or drop")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise refuse("status: an HTTP status")
    if drop is not None and drop not in DROPS:
        raise refuse(f"drop: one of {', '.join(DROPS)}")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise refuse("times: an integer >= 1 (leave it out for every request)")
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
        raise refuse("share: a number above 0, at most 1")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise refuse("headers: an object of strings")
    return Answer(path, method, status, raw.get("body"), dict(headers), times, float(share), drop)


def usual_body(status: int) -> dict[str, Any]:
    """MercadoLibre's shape for a status the script names without a body."""
    if status == 429:
        return {"message": "Too many requests", "error": "local_rate_limited", "status": 429, "cause": []}
    if status == 500:
        return {"message": "Internal server error", "error": "internal_error", "status": 500, "cause": []}
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "error"
    return {"message": phrase, "error": phrase.lower().replace(" ", "_"), "status": status, "cause": []}


class HungUp(ConnectionResetError):
    """Raised after closing the client's connection: werkzeug's server takes it for a dropped
    connection and writes nothing more."""


class ScriptedAnswers:
    """WSGI middleware in front of the sandbox app: the latency knob and the scripted answers."""

    def __init__(self, app: Callable[..., Iterable[bytes]], state: SandboxState) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_sandbox/"):
            return self.app(environ, start_response)
        with self.state.lock:
            latency = self.state.faults.latency_ms
        if latency:
            time.sleep(latency / 1000)
        answer = self.state.take_answer(method, path)
        if answer is None:
            return self.app(environ, start_response)
        if answer.drop == "after":
            handled = self.app(environ, lambda status, headers, exc_info=None: lambda data: None)
            for _ in handled:
                pass
            if hasattr(handled, "close"):
                handled.close()
        if answer.drop is not None:
            hang_up(environ)
        assert answer.status is not None
        body = usual_body(answer.status) if answer.body is None else answer.body
        payload = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(payload)),
            SANDBOX_HEADER[0]: SANDBOX_HEADER[1],
            "x-request-id": str(uuid.uuid4()),
            **({"Retry-After": "1"} if answer.status == 429 else {}),
            **answer.headers,
        }
        reason = HTTPStatus(answer.status).phrase if answer.status in HTTPStatus._value2member_map_ else ""
        start_response(f"{answer.status} {reason}".strip(), list(headers.items()))
        return [payload]


def hang_up(environ: dict[str, Any]) -> None:
    """Close the client's connection without a byte of answer (a real server only: werkzeug's)."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        raise RuntimeError("dropping the connection needs the sandbox served over HTTP")
    with contextlib.suppress(OSError):  # already gone
        connection.shutdown(socket.SHUT_RDWR)
    raise HungUp("the sandbox hung up, as scripted")
