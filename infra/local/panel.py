"""The panel on a laptop: the built SPA (web/build) and the API behind one origin.

`make run` starts this next to `chalice local`: the page and `/api/...` share the origin
http://127.0.0.1:PANEL_PORT, so the panel needs no CORS and its session never leaves loopback.
Static files get long caching when their name carries a content hash (`/_app/immutable/`), none
for `index.html`; any other unknown path is a route of the single-page app and gets `index.html`.
`/api/...` is passed through (method, headers such as Authorization and If-None-Match, body,
status such as 304 or 409), streamed both ways.

The pass-through is where request smuggling would start, so its framing is strict (RFC 9112):
a request with both Content-Length and Transfer-Encoding, with more than one Content-Length or
Transfer-Encoding or Host line, with a length that is not a plain number, or with a
Transfer-Encoding on HTTP/1.0 is refused with 400 and the connection closed (section 6.3); a
transfer coding other than chunked gets 501 (section 6.1). What reaches the API is a normalized set
of headers: one line per name, no hop-by-hop fields (nor those Connection names), the client's
Host, framing and X-Forwarded-* replaced by ours, and one Content-Length for the body as read.
(The standard library's server is kept: werkzeug's ProxyMiddleware forwards the client's
Content-Length next to a de-chunked body and never ends a chunked upload; h11 prefers
Transfer-Encoding over Content-Length instead of refusing the pair and would need a server around it.)

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
from email.message import Message
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infra.local.environment import ROOT
from infra.local.redaction import redact

BUILD_DIR = ROOT / "web" / "build"
CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 60.0

# Connection-level headers belong to one hop; they are never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# Set by this server for the API, whatever the client sent.
REPLACED = {"host", "content-length", "expect", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-for"}
MAX_LENGTH_DIGITS = 18
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
        elif self._framed():
            self._static(send_body)

    def _only_api(self) -> None:
        if self._is_api():
            self._proxy()
        elif self._framed():
            self._plain(
                HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD outside /api/", {"Allow": "GET, HEAD"}
            )

    def _framed(self) -> bool:
        """Outside the API a body is never read: the connection closes after the answer, so the body
        cannot be taken for the next request. A request with bad framing is refused."""
        try:
            chunked, length = framing(self.headers, self.request_version)
        except BadFraming as error:
            self.close_connection = True
            self._plain(error.status, str(error), {"Connection": "close"})
            return False
        if chunked or length:
            self.close_connection = True
        return True

    # --- the API, passed through -----------------------------------------------------------

    def _proxy(self) -> None:
        try:
            chunked, length = framing(self.headers, self.request_version)
        except BadFraming as error:
            self.close_connection = True  # where this body ends is unknown: nothing after it is trusted
            self._plain(error.status, str(error), {"Connection": "close"})
            return
        upstream = http.client.HTTPConnection(*self.api, timeout=UPSTREAM_TIMEOUT)
        headers = forwarded_headers(self.headers)
        headers["Host"] = f"{self.api[0]}:{self.api[1]}"
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-For"] = self.client_address[0]
        try:
            body = self._request_body(chunked, length, headers)
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

    def _request_body(self, chunked: bool, length: int | None, headers: dict[str, str]) -> Iterator[bytes]:
        """The request body as it arrives: by Content-Length, or de-chunked and re-sent with a length
        (`chalice local` reads bodies by Content-Length only)."""
        if chunked:
            # Rare from browsers; the API is small-bodied, so collect it and send it with a length.
            data = b"".join(_read_chunked(self.rfile))
            headers["Content-Length"] = str(len(data))
            return iter([data])
        if length is None:
            return iter(())
        headers["Content-Length"] = str(length)
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
        # The request line, its OAuth code and state redacted (also in error lines, which quote it).
        message = redact(format % args).translate(self._control_char_table)  # type: ignore[attr-defined]
        sys.stderr.write(f"{self.address_string()} {message}\n")


class BadRequestBody(ValueError):
    pass


class BadFraming(ValueError):
    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def framing(headers: Message, version: str) -> tuple[bool, int | None]:
    """How the request's body ends (chunked, or its length; neither: no body), or BadFraming.

    RFC 9112: one Host line (3.2); Transfer-Encoding with Content-Length is refused, not resolved
    (6.3 calls the pair a likely smuggling attempt, to be handled as an error), as is a repeated or
    unreadable length (6.3) and a Transfer-Encoding on HTTP/1.0 (6.1)."""
    hosts = headers.get_all("Host") or []
    if len(hosts) > 1 or (not hosts and version == "HTTP/1.1"):
        raise BadFraming("exactly one Host header is needed")
    codings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if codings and lengths:
        raise BadFraming("a request may not carry both Content-Length and Transfer-Encoding")
    if len(codings) > 1 or len(lengths) > 1:
        raise BadFraming("a repeated Content-Length or Transfer-Encoding header")
    if codings:
        if version != "HTTP/1.1":
            raise BadFraming(f"Transfer-Encoding is not allowed in {version}")
        listed = [coding.strip().lower() for coding in codings[0].split(",")]
        if listed[-1] != "chunked":
            raise BadFraming("the body's length is unknown: chunked must be the last transfer coding")
        if listed != ["chunked"]:
            raise BadFraming("only the chunked transfer coding is accepted", HTTPStatus.NOT_IMPLEMENTED)
        return True, None
    if lengths:
        length = lengths[0].strip()
        if not length.isascii() or not length.isdigit() or len(length) > MAX_LENGTH_DIGITS:
            raise BadFraming("Content-Length is not a plain number")
        return False, int(length)
    return False, None


def forwarded_headers(headers: Message) -> dict[str, str]:
    """The client's end-to-end headers, one line per name: no hop-by-hop field (nor one Connection
    names), none this server sets itself; repeated lines joined as RFC 9110 5.3 allows."""
    named = {
        token.strip().lower() for value in headers.get_all("Connection") or [] for token in value.split(",")
    }
    dropped = HOP_BY_HOP | REPLACED | named
    joined: dict[str, list[str]] = {}
    for name, value in headers.items():
        if name.lower() not in dropped:
            joined.setdefault(name.lower(), []).append(value)
    return {
        "-".join(part.capitalize() for part in name.split("-")): ("; " if name == "cookie" else ", ").join(
            values
        )
        for name, values in joined.items()
    }


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
