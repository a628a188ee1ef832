"""The local panel server: the built SPA and the API behind one origin (infra/local/panel.py)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import requests

from infra.local.emulator import free_port
from infra.local.panel import make_server
from tests.waiting import wait_for

INDEX = b"<!doctype html><title>panel</title>"


class FakeApi(BaseHTTPRequestHandler):
    """Echoes what reached it, and answers the status, headers and body the test asks for."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, object]]] = []
    connections: ClassVar[list[int]] = [0]  # open now; a handler thread counts its own
    lock = threading.Lock()

    def setup(self) -> None:
        with FakeApi.lock:
            FakeApi.connections[0] += 1
        super().setup()

    def finish(self) -> None:
        super().finish()
        with FakeApi.lock:
            FakeApi.connections[0] -= 1

    def _answer(self) -> None:
        # Reads its body the way `chalice local` does: by the (first) Content-Length, nothing else.
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        FakeApi.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "lines": list(self.headers.items()),
                "body": body,
            }
        )
        if self.path.startswith("/api/v1/events"):
            if self.headers.get("If-None-Match") == '"v7"':
                self.send_response(304)
                self.send_header("ETag", '"v7"')
                self.end_headers()
                return
            payload = b'{"events": []}'
            self.send_response(200)
            self.send_header("ETag", '"v7"')
        elif self.path.startswith("/api/v1/conflict"):
            payload = b'{"error": {"code": "CONFLICT", "details": {"version": 3}}}'
            self.send_response(409)
        else:
            payload = body or b"{}"
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("X-Request-Id", "req-1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("build")
    (root / "index.html").write_bytes(INDEX)
    (root / "_app" / "immutable" / "chunks").mkdir(parents=True)
    (root / "_app" / "immutable" / "chunks" / "app.abc123.js").write_text("export const x = 1;")
    (root / "favicon.svg").write_text("<svg/>")
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("not for the browser")
    (root / "leak.txt").symlink_to(outside)

    api = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeApi)
    server = make_server(free_port(), api.server_address[1], root)
    _serve(api), _serve(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    for running in (server, api):
        running.shutdown()
        running.server_close()


def _raw_get(base: str, path: str) -> http.client.HTTPResponse:
    """A request line sent exactly as written (requests would normalise the dots away)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", path)
    return connection.getresponse()


def test_any_route_of_the_app_is_the_page_never_cached(panel: str) -> None:
    for path in ("/", "/login", "/products/01ABC?tab=images", "/settings"):
        page = requests.get(panel + path, timeout=5)
        assert page.status_code == 200 and page.content == INDEX
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_and_a_missing_one_is_a_404(panel: str) -> None:
    asset = requests.get(f"{panel}/_app/immutable/chunks/app.abc123.js", timeout=5)
    assert asset.status_code == 200 and asset.text == "export const x = 1;"
    assert asset.headers["Content-Type"].startswith("text/javascript")
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A stale tab asking for an old chunk must not get HTML back as JavaScript.
    assert requests.get(f"{panel}/_app/immutable/chunks/gone.js", timeout=5).status_code == 404
    again = requests.get(f"{panel}/favicon.svg", headers={"If-None-Match": asset.headers["ETag"]}, timeout=5)
    assert again.status_code == 200  # another file's tag does not match
    tag = requests.get(f"{panel}/favicon.svg", timeout=5).headers["ETag"]
    assert requests.get(f"{panel}/favicon.svg", headers={"If-None-Match": tag}, timeout=5).status_code == 304


def test_every_page_carries_the_security_headers(panel: str) -> None:
    for path in ("/", "/_app/immutable/chunks/app.abc123.js", "/_app/missing.js"):
        headers = requests.get(panel + path, timeout=5).headers
        assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    "path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/_app/..%2f..%2fetc/passwd", "/a%00b"]
)
def test_paths_out_of_the_build_are_refused(panel: str, path: str) -> None:
    answer = _raw_get(panel, path)
    body = answer.read()
    assert answer.status == 400 and b"root:" not in body


def test_a_link_out_of_the_build_is_not_followed(panel: str) -> None:
    answer = requests.get(f"{panel}/leak.txt", timeout=5)
    assert b"not for the browser" not in answer.content and answer.content == INDEX


def test_the_api_gets_the_request_as_sent_and_the_browser_its_answer(panel: str) -> None:
    FakeApi.seen.clear()
    body = json.dumps({"prompt": "yogur", "images": [{"size": 1}]}).encode()
    answer = requests.post(
        f"{panel}/api/v1/products?x=1&y=%C3%B1",
        data=body,
        headers={
            "Authorization": "Bearer tok",
            "Content-Type": "application/json",
            "Accept-Language": "es-AR",
        },
        timeout=5,
    )
    assert answer.status_code == 201 and answer.content == body
    assert answer.headers["X-Request-Id"] == "req-1"
    seen = FakeApi.seen[-1]
    assert seen["method"] == "POST" and seen["path"] == "/api/v1/products?x=1&y=%C3%B1"
    assert seen["body"] == body
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == "Bearer tok" and headers["Accept-Language"] == "es-AR"
    assert headers["Host"].startswith("127.0.0.1:") and headers["X-Forwarded-Host"] == panel.removeprefix(
        "http://"
    )


def test_conflicts_and_not_modified_pass_through(panel: str) -> None:
    conflict = requests.put(f"{panel}/api/v1/conflict", json={"version": 2}, timeout=5)
    assert conflict.status_code == 409 and conflict.json()["error"]["details"]["version"] == 3
    first = requests.get(f"{panel}/api/v1/events", timeout=5)
    assert first.status_code == 200 and first.headers["ETag"] == '"v7"'
    again = requests.get(f"{panel}/api/v1/events", headers={"If-None-Match": '"v7"'}, timeout=5)
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == '"v7"'
    assert FakeApi.seen[-1]["headers"]["If-None-Match"] == '"v7"'  # type: ignore[index]


def test_a_large_body_streams_both_ways_on_one_connection(panel: str) -> None:
    big = bytes(range(256)) * 16384  # 4 MiB
    with requests.Session() as browser:
        for _ in range(2):  # keep-alive: the second request reuses the connection
            echoed = browser.put(f"{panel}/api/v1/blob", data=big, timeout=10)
            assert echoed.status_code == 200 and echoed.content == big
        chunked = browser.put(f"{panel}/api/v1/blob", data=iter([b"ab", b"cd"]), timeout=10)
        assert chunked.content == b"abcd"  # a chunked upload reaches the API with its length


def test_no_writes_outside_the_api_and_a_down_api_is_a_502(panel: str, tmp_path: Path) -> None:
    assert requests.post(f"{panel}/products", data=b"x", timeout=5).status_code == 405
    lonely = make_server(free_port(), free_port(), tmp_path)
    _serve(lonely)
    try:
        base = f"http://127.0.0.1:{lonely.server_address[1]}"
        down = requests.get(f"{base}/api/v1/health", timeout=5)
        assert down.status_code == 502 and "did not answer" in down.text
        # No build yet: say how to make one instead of a blank page.
        unbuilt = requests.get(f"{base}/products", timeout=5)
        assert unbuilt.status_code == 503 and "make web" in unbuilt.text
    finally:
        lonely.shutdown()
        lonely.server_close()


# --- framing (RFC 9112): what could smuggle a request past the panel is refused ---------------------


def _send_raw(base: str, request: bytes) -> bytes:
    """Bytes exactly as written; the first answer, its status line, headers and body, as received."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        head = f"HTTP/1.1 {answer.status} {answer.reason}\r\n{answer.headers}".encode()
        return head + answer.read()


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _reached_api(*markers: str) -> list[str]:
    """The paths with a marker the API saw, once it has closed every connection it was given."""
    wait_for(lambda: FakeApi.connections[0] == 0, 10, "the API to finish its connections")
    return [str(seen["path"]) for seen in FakeApi.seen if any(m in str(seen["path"]) for m in markers)]


def test_a_request_smuggled_in_a_chunked_body_never_reaches_the_api(panel: str) -> None:
    """The attack that worked: a lowercase content-length next to Transfer-Encoding: chunked. The
    panel de-chunked the body and forwarded the client's length next to its own; the API read the
    client's (4 bytes) and took the rest of the body for a second request."""
    carrier, hidden = f"/api/v1/carrier-{uuid.uuid4().hex}", f"/api/v1/hidden-{uuid.uuid4().hex}"
    smuggled = f"abcdGET {hidden} HTTP/1.1\r\nHost: api\r\n\r\n".encode()
    request = (
        (
            f"POST {carrier} HTTP/1.1\r\nHost: panel\r\ncontent-length: 4\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n{len(smuggled):x}\r\n"
        ).encode()
        + smuggled
        + b"\r\n0\r\n\r\n"
    )
    answer = _send_raw(panel, request)
    assert _status(answer) == 400, answer[:200]
    assert b"both Content-Length and Transfer-Encoding" in answer
    assert _reached_api(carrier, hidden) == []


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        ("Content-Length: 4\r\nContent-Length: 4\r\n", 400),  # duplicated, even when equal
        ("Content-Length: 4\r\ncontent-length: 30\r\n", 400),
        ("Content-Length: 4, 4\r\n", 400),
        ("Content-Length: +4\r\n", 400),
        ("Content-Length: 0x4\r\n", 400),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
        ("Transfer-Encoding: chunked, gzip\r\n", 400),  # chunked not last: the length is unknown
        ("Transfer-Encoding: gzip, chunked\r\n", 501),  # a coding this server does not decode
        ("Transfer-Encoding: xchunked\r\n", 400),
    ],
)
def test_ambiguous_framing_is_refused_and_the_connection_closed(
    panel: str, framing: str, status: int
) -> None:
    path = f"/api/v1/framing-{uuid.uuid4().hex}"
    answer = _send_raw(panel, f"POST {path} HTTP/1.1\r\nHost: panel\r\n{framing}\r\n".encode() + b"abcd")
    assert _status(answer) == status, answer[:200]
    assert b"Connection: close" in answer
    assert _reached_api(path) == []


def test_transfer_encoding_on_http_1_0_and_a_second_host_are_refused(panel: str) -> None:
    old, hosts = f"/api/v1/old-{uuid.uuid4().hex}", f"/api/v1/hosts-{uuid.uuid4().hex}"
    answer = _send_raw(panel, f"POST {old} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode())
    assert _status(answer) == 400
    answer = _send_raw(panel, f"GET {hosts} HTTP/1.1\r\nHost: panel\r\nHost: evil\r\n\r\n".encode())
    assert _status(answer) == 400
    assert _reached_api(old, hosts) == []


def test_the_api_gets_one_normalized_line_per_header(panel: str) -> None:
    path = f"/api/v1/normalized-{uuid.uuid4().hex}"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: panel\r\nConnection: close\r\nConnection: X-Hop\r\nX-Hop: secret\r\n"
        "x-forwarded-for: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nAccept: a/b\r\naccept: c/d\r\n"
        "Cookie: a=1\r\nCookie: b=2\r\nKeep-Alive: 5\r\ncontent-length: 2\r\n\r\n{}"
    ).encode()
    assert _status(_send_raw(panel, request)) == 201
    [seen] = [s for s in FakeApi.seen if s["path"] == path]
    lines = seen["lines"]
    assert isinstance(lines, list)
    names = [name.lower() for name, _ in lines]
    assert len(names) == len(set(names))  # one line per name
    headers = dict(lines)
    assert headers["Content-Length"] == "2" and seen["body"] == b"{}"
    assert headers["X-Forwarded-For"] == "127.0.0.1" and headers["X-Forwarded-Host"] == "panel"
    assert headers["Accept"] == "a/b, c/d" and headers["Cookie"] == "a=1; b=2"
    assert not {"x-hop", "keep-alive", "connection", "transfer-encoding"} & set(names)


def test_the_log_shows_requests_with_oauth_secrets_redacted(
    panel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "code=TG-0123456789abcdef-1234&state=s3cr3t.st4te"
    requests.get(f"{panel}/api/v1/ml/callback?{query}", timeout=5)
    # An unreadable request line is logged by the error path, quoting the line.
    _send_raw(panel, f"GET /api/v1/ml/callback?{query} HTTP/1.1 HTTP/1.1\r\n\r\n".encode())
    logged = capsys.readouterr().err
    assert "/api/v1/ml/callback?code=[redacted]&state=[redacted]" in logged
    assert "Bad request syntax" in logged
    assert "TG-0123456789abcdef-1234" not in logged and "s3cr3t.st4te" not in logged
