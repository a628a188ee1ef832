"""The panel on a laptop: the built SPA (web/build) and the API behind one origin.

`make run` starts this next to `chalice local`: the page and `/api/...` share the origin
http://127.0.0.1:PANEL_PORT, so the panel needs no CORS and its session never leaves loopback.
Static files get long caching when their name carries a content hash (`/_app/immutable/`), none
for `index.html`; any other unknown path is a route of the single-page app and gets `index.html`.
`/api/...` is passed through as it is (method, headers such as Authorization and If-None-Match,
body, status such as 304 or 409), streamed both ways.

Scripts are governed by the page's own CSP <meta> tag (SvelteKit's hash mode, web/svelte.config.js);
the headers here add what a <meta> policy cannot say (frame-ancestors), as CloudFront does in AWS.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import mimetypes
import posixpath
import sys
from collections.abc import Iterator
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infra.local.environment import ROOT

BUILD_DIR = ROOT / "web" / "build"
CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 60.0

# Connection-level headers belong to one hop; they are never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "expect",  # answered by this server (100 Continue) before the body is read
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"


class PanelHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IntelliPostPanel"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    # Set by `serve`/`make_server` on a subclass.
    root: Path = BUILD_DIR
    api: tuple[str, int] = ("127.0.0.1", 8000)

    # --- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        self._only_api()

    def do_PUT(self) -> None:
        self._only_api()

    def do_PATCH(self) -> None:
        self._only_api()

    def do_DELETE(self) -> None:
        self._only_api()

    def do_OPTIONS(self) -> None:
        self._only_api()

    def _is_api(self) -> bool:
        path = urlsplit(self.path).path
        return path == "/api" or path.startswith("/api/")

    def _dispatch(self, send_body: bool) -> None:
        if self._is_api():
            self._proxy()
        else:
            self._static(send_body)

    def _only_api(self) -> None:
        if self._is_api():
            self._proxy()
        else:
            self._plain(
                HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD outside /api/", {"Allow": "GET, HEAD"}
            )

    # --- the API, passed through -----------------------------------------------------------

    def _proxy(self) -> None:
        upstream = http.client.HTTPConnection(*self.api, timeout=UPSTREAM_TIMEOUT)
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        headers["Host"] = f"{self.api[0]}:{self.api[1]}"
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-For"] = self.client_address[0]
        try:
            body = self._request_body(headers)
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                upstream.putheader(name, value)
            upstream.endheaders()
            for piece in body:
                upstream.send(piece)
            response = upstream.getresponse()
        except BadRequestBody as error:
            upstream.close()
            self.close_connection = True  # the rest of the body is still in the socket
            self._plain(HTTPStatus.BAD_REQUEST, str(error))
            return
        except OSError as error:
            upstream.close()
            self.close_connection = True
            self._plain(
                HTTPStatus.BAD_GATEWAY, f"the API at {self.api[0]}:{self.api[1]} did not answer: {error}"
            )
            return
        try:
            self._relay(response)
        finally:
            upstream.close()

    def _request_body(self, headers: dict[str, str]) -> Iterator[bytes]:
        """The request body as it arrives: by Content-Length, or de-chunked and re-sent with a length."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            # Rare from browsers; the API is small-bodied, so collect it and send it with a length.
            data = b"".join(_read_chunked(self.rfile))
            headers["Content-Length"] = str(len(data))
            return iter([data])
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return iter(())
        try:
            length = int(length_header)
        except ValueError:
            raise BadRequestBody("Content-Length is not a number") from None
        if length < 0:
            raise BadRequestBody("Content-Length is negative")
        return _read_exactly(self.rfile, length)

    def _relay(self, response: http.client.HTTPResponse) -> None:
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        bodiless = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        if length is None and not bodiless:
            # Unknown length: the end of the body is the end of the connection.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if bodiless:
            return
        while piece := response.read1(CHUNK):
            self.wfile.write(piece)
        self.wfile.flush()

    # --- the built panel --------------------------------------------------------------------

    def _static(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if "\x00" in path or ".." in path.split("/") or "\\" in path:
            self._plain(HTTPStatus.BAD_REQUEST, "that path is not allowed")
            return
        file = self._file(path)
        if file is None:
            if path.startswith("/_app/"):
                # A missing hashed asset (a stale tab after a rebuild) is a real 404, not the page.
                self._plain(HTTPStatus.NOT_FOUND, "not found")
                return
            file = self.root / "index.html"
            if not file.is_file():
                self._plain(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "the panel is not built: run `make web` (needs Node 20.19+)",
                )
                return
        self._send_file(file, path, send_body)

    def _file(self, path: str) -> Path | None:
        relative = posixpath.normpath(path).lstrip("/")
        if relative in ("", "."):
            return None
        candidate = (self.root / relative).resolve()
        root = self.root.resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    def _send_file(self, file: Path, path: str, send_body: bool) -> None:
        stat = file.stat()
        tag = (
            '"'
            + hashlib.blake2b(f"{stat.st_mtime_ns}-{stat.st_size}".encode(), digest_size=10).hexdigest()
            + '"'
        )
        cache = IMMUTABLE if path.startswith("/_app/immutable/") else "no-cache"
        headers = {
            "Content-Type": TYPES.get(
                file.suffix, mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            ),
            "Cache-Control": cache,
            "ETag": tag,
            "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
            **SECURITY_HEADERS,
        }
        if tag in {value.strip() for value in self.headers.get("If-None-Match", "").split(",")}:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(stat.st_size))
        self.end_headers()
        if send_body:
            with file.open("rb") as source:
                while piece := source.read(CHUNK):
                    self.wfile.write(piece)

    def _plain(self, status: HTTPStatus, text: str, extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # Paths only: query strings can carry OAuth codes, never logged.
        sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n")


class BadRequestBody(ValueError):
    pass


def _read_exactly(stream: BufferedIOBase, length: int) -> Iterator[bytes]:
    left = length
    while left > 0:
        piece = stream.read(min(CHUNK, left))
        if not piece:
            raise BadRequestBody("the request body ended early")
        left -= len(piece)
        yield piece


def _read_chunked(stream: BufferedIOBase) -> Iterator[bytes]:
    while True:
        line = stream.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError:
            raise BadRequestBody("a malformed chunk in the request body") from None
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers, ignored
            return
        yield from _read_exactly(stream, size)
        stream.readline(1024)


def make_server(
    port: int, api_port: int, root: Path = BUILD_DIR, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """A panel server bound to (host, port), not yet serving: `serve_forever()` it."""
    handler = type("Handler", (PanelHandler,), {"root": root, "api": ("127.0.0.1", api_port)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--root", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    if not (args.root / "index.html").is_file():
        print(f"{args.root}/index.html is missing: build the panel with `make web` first", file=sys.stderr)
        return 1
    server = make_server(args.port, args.api_port, args.root, args.host)
    print(f"panel on http://{args.host}:{args.port}, API from 127.0.0.1:{args.api_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
