"""PhotoRoom v1's segment API on loopback, for the adapter as shipped. It checks what PhotoRoom checks
(the `x-api-key` header, a multipart `image_file` holding an image) and answers as PhotoRoom does: a
PNG cutout on transparency at the input's size with an `x-uncertainty-score` header, or a JSON error
`{"detail", "status_code", "type"}`; failures are scripted per test. The `photoroom` fixture (a plugin
of tests/conftest.py) points the adapter at it."""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image, ImageDraw
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from chalicelib.providers.photoroom import PhotoRoomRemover

API_KEY = f"sk_pr_test_{secrets.token_hex(12)}"
UNCERTAINTY = "0.12"


@dataclass
class Seen:
    at: float
    api_key: str | None
    form: dict[str, str]
    image_size: tuple[int, int] | None
    image_format: str | None


@dataclass
class FakePhotoRoom:
    """Scripted answers first (status, headers, body), then real cutouts: an ellipse of the photo's middle."""

    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    hang: float = 0.0  # seconds before answering at all
    trickle: float = 0.0  # seconds between the body's chunks

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.answer(Request(environ))(environ, start_response)

    def answer(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/v1/segment":
            return error(404, "Not Found", "not_found")
        upload = request.files.get("image_file")
        photo = Image.open(io.BytesIO(upload.read())) if upload else None
        self.seen.append(
            Seen(
                at=time.monotonic(),
                api_key=request.headers.get("x-api-key"),
                form=dict(request.form),
                image_size=photo.size if photo else None,
                image_format=photo.format if photo else None,
            )
        )
        if request.headers.get("x-api-key") != API_KEY:
            return error(403, "Forbidden: invalid API key", "forbidden")
        if photo is None:
            return error(400, "image_file is required", "bad_request")
        time.sleep(self.hang)
        if self.script:
            status, headers, body = self.script.pop(0)
            return Response(body, status=status, headers=headers)
        png = cutout_png(photo)
        if self.trickle:
            return Response(
                self._trickled(png), headers={"x-uncertainty-score": UNCERTAINTY}, mimetype="image/png"
            )
        return Response(png, headers={"x-uncertainty-score": UNCERTAINTY}, mimetype="image/png")

    def _trickled(self, body: bytes) -> Iterator[bytes]:
        for start in range(0, len(body), 1024):
            time.sleep(self.trickle)
            yield body[start : start + 1024]


def error(status: int, detail: str, kind: str) -> Response:
    body = json.dumps({"detail": detail, "status_code": status, "type": kind})
    return Response(body, status=status, mimetype="application/json")


def cutout_png(photo: Image.Image) -> bytes:
    w, h = photo.size
    alpha = Image.new("L", photo.size, 0)
    ImageDraw.Draw(alpha).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=255)
    cutout = photo.convert("RGBA")
    cutout.putalpha(alpha)
    out = io.BytesIO()
    cutout.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def photoroom(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePhotoRoom]:
    fake = FakePhotoRoom()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PHOTOROOM_BASE_URL", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("PHOTOROOM_API_KEY", API_KEY)
    yield fake
    server.shutdown()
    thread.join(timeout=10)


def remover() -> PhotoRoomRemover:
    return PhotoRoomRemover(backoff_base=0.01)


def photo(size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A product on a plain backdrop (so the local fallback can cut it without the u2netp model)."""
    image = Image.new("RGB", size, (250, 250, 250))
    w, h = size
    ImageDraw.Draw(image).rounded_rectangle(
        (w // 3, h // 4, 2 * w // 3, 3 * h // 4), radius=40, fill=(30, 90, 200)
    )
    return image
