"""A real local HTTP server that answers from a script, for testing HTTP clients without patching them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    args: dict[str, str]
    form: dict[str, str]
    files: dict[str, bytes]
    body: bytes


@dataclass
class ScriptedServer:
    url: str = ""
    script: list[tuple[int, bytes | str, dict[str, str]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, status: int, body: bytes | str = b"", **headers: str) -> None:
        """The next answer; `delay="0.5"` holds it back that many seconds, the rest are headers."""
        self.script.append((status, body, {k.replace("_", "-"): v for k, v in headers.items()}))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        self.seen.append(
            Seen(
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                args=dict(request.args),
                form=dict(request.form),
                files={name: f.read() for name, f in request.files.items()},
                body=body,
            )
        )
        status, answer, headers = self.script.pop(0) if self.script else (500, b"script exhausted", {})
        headers = dict(headers)
        delay = float(headers.pop("delay", "0"))
        if delay:
            time.sleep(delay)  # an answer later than the client's read timeout
        content_type = headers.pop("Content-Type", "application/json")
        return Response(answer, status=status, headers=headers, content_type=content_type)(
            environ, start_response
        )


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    app = ScriptedServer()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(5)
