"""PhotoRoom's v1 segment API: the production background remover.

Wire format (docs.photoroom.com, "Remove Background API"): `POST {base}/v1/segment`, header
`x-api-key`, multipart field `image_file` (up to 30 MB), optional `format` and `size`; the answer
is the cutout on transparency at the input's size, with an `x-uncertainty-score` header (0 sure ..
1 unsure; -1 when PhotoRoom has no estimate, e.g. a person was detected). Errors are JSON like
`{"detail": "...", "status_code": 400, "type": "..."}`; that shape is an assumption from their docs
and public clients, so any other JSON `message`/`error` or a plain-text body is read as well.
402 means the account has no credits left.

In Lambda the calls keep to the function's remaining time: `time_left` says how many seconds
PhotoRoom may still take (the images step passes the context's remaining time less what the local
fallback needs), each attempt's read timeout and each answer's download fit in it, and no attempt or
wait starts that could not finish. When it runs out the remover fails with PHOTOROOM_OUT_OF_TIME and
the fallback cuts the photo within the function's timeout.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from aws_lambda_powertools.metrics import MetricUnit
from PIL import Image, UnidentifiedImageError

from chalicelib import config
from chalicelib.config import MissingSetting, secret
from chalicelib.observability import count, logger, provider_call
from chalicelib.providers.background import BackgroundRemovalFailed, Cutout

SEGMENT_PATH = "/v1/segment"
MODEL = "photoroom-v1-segment"
MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_SIDE = 4000  # larger photos gain nothing for a listing picture and cost upload time
JPEG_QUALITY = 92
TIMEOUT = (5.0, 60.0)  # (connect, read) seconds
ATTEMPTS = 3
MAX_WAIT = 20.0  # a longer Retry-After is not worth a Lambda's time: the fallback answers sooner
RETRYABLE = {429, 500, 502, 503, 504}
# An attempt with less time than this cannot upload a photo and bring its cutout back: not started.
MIN_ATTEMPT_SECONDS = 8.0
CHUNK = 256 * 1024


class PhotoRoomRemover:
    name = "photoroom"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        time_left: Callable[[], float] | None = None,
    ) -> None:
        self._api_key = api_key
        self.url = (base_url or str(config.value("PHOTOROOM_BASE_URL"))).rstrip("/")
        self.url += SEGMENT_PATH
        self.backoff_base = backoff_base
        self.sleep = sleep
        self.time_left = time_left  # seconds PhotoRoom may still take; None: no deadline (tests, scripts)
        self._session: requests.Session | None = None

    @provider_call("photoroom")
    def cutout(self, photo: Image.Image) -> Cutout:
        started = time.perf_counter()
        upload = _jpeg_upload(photo)
        response, content = self._post(upload)
        count("AiCostUsd", price_per_call(), MetricUnit.NoUnit)  # answered, so billed
        image = _cutout_at_size(content, photo)
        return Cutout(
            image=image,
            provider="photoroom",
            model=MODEL,
            milliseconds=(time.perf_counter() - started) * 1000,
            uncertainty=_uncertainty(response.headers.get("x-uncertainty-score")),
        )

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def _key(self) -> str:
        if self._api_key is None:
            try:
                self._api_key = secret("PHOTOROOM_API_KEY")
            except MissingSetting as error:
                raise BackgroundRemovalFailed(
                    "PHOTOROOM_NOT_CONFIGURED", "The PhotoRoom background service is not configured."
                ) from error
        return self._api_key

    def _seconds_left(self) -> float:
        return float("inf") if self.time_left is None else self.time_left()

    def _post(self, upload: bytes) -> tuple[requests.Response, bytes]:
        headers = {"x-api-key": self._key(), "Accept": "image/png, application/json"}
        problem = "no attempt made"
        for attempt in range(1, ATTEMPTS + 1):
            left = self._seconds_left()
            if left < MIN_ATTEMPT_SECONDS:
                problem = "out of time"
                break
            give_up_at = time.monotonic() + left
            wait: float | None = None
            try:
                response = self.session.post(
                    self.url,
                    headers=headers,
                    files={"image_file": ("photo.jpg", upload, "image/jpeg")},
                    data={"format": "png", "size": "full"},
                    timeout=(TIMEOUT[0], min(TIMEOUT[1], left - TIMEOUT[0])),
                    stream=True,
                )
                content = _read_by(response, give_up_at)
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = type(error).__name__
            else:
                if response.ok:
                    return response, content
                _raise_final(response, content)
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response.headers.get("Retry-After"))
            logger.warning("PhotoRoom attempt failed", extra={"attempt": attempt, "problem": problem})
            if attempt == ATTEMPTS:
                break
            if wait is None:
                # Full jitter keeps parallel images jobs from retrying in lockstep.
                wait = self.backoff_base * 2 ** (attempt - 1) * (0.5 + random.random())
            if wait > MAX_WAIT:
                break  # the fallback answers sooner
            if self._seconds_left() - wait < MIN_ATTEMPT_SECONDS:
                problem = "out of time"  # no attempt after this wait could finish
                break
            self.sleep(wait)
        if problem == "out of time":
            logger.warning("PhotoRoom out of time", extra={"seconds_left": round(self._seconds_left())})
            raise BackgroundRemovalFailed(
                "PHOTOROOM_OUT_OF_TIME", "PhotoRoom did not answer in the time this step has."
            )
        if problem == "HTTP 429":
            raise BackgroundRemovalFailed(
                "PHOTOROOM_RATE_LIMITED", "PhotoRoom is busy with too many photos; try again in a minute."
            )
        raise BackgroundRemovalFailed(
            "PHOTOROOM_UNAVAILABLE", "PhotoRoom is not answering right now; try again in a few minutes."
        )


def price_per_call() -> float:
    return float(str(config.value("PHOTOROOM_PRICE_USD")))


def _read_by(response: requests.Response, give_up_at: float) -> bytes:
    """The answer's body, or requests.Timeout once `give_up_at` (time.monotonic) passes: the read
    timeout bounds each wait for bytes, not a body trickling in."""
    chunks = []
    try:
        for chunk in response.iter_content(CHUNK):
            chunks.append(chunk)
            if time.monotonic() > give_up_at:
                raise requests.Timeout("PhotoRoom's answer took longer than the time left")
    except requests.exceptions.ChunkedEncodingError as error:
        raise requests.ConnectionError(str(error)) from error
    finally:
        response.close()
    return b"".join(chunks)


def _raise_final(response: requests.Response, content: bytes) -> None:
    """Errors that another attempt cannot fix."""
    status = response.status_code
    if status in RETRYABLE:
        return
    if status == 402:
        raise BackgroundRemovalFailed(
            "PHOTOROOM_CREDITS_EXHAUSTED", "The PhotoRoom account has no credits left."
        )
    if status in (401, 403):
        raise BackgroundRemovalFailed(
            "PHOTOROOM_UNAUTHORIZED", "PhotoRoom refused the API key; check its configuration."
        )
    raise BackgroundRemovalFailed(
        "PHOTOROOM_REJECTED", f"PhotoRoom could not process this photo: {_error_detail(response, content)}"
    )


def _error_detail(response: requests.Response, content: bytes) -> str:
    try:
        body: Any = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace").strip()[:300] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        nested = body.get("error")
        for value in (body.get("detail"), body.get("message"), nested):
            if isinstance(value, str) and value:
                return value[:300]
        if isinstance(nested, dict) and isinstance(nested.get("message"), str):
            return str(nested["message"])[:300]
    return f"HTTP {response.status_code}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its forms (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _uncertainty(value: str | None) -> float | None:
    try:
        score = float(value) if value is not None else -1.0
    except ValueError:
        return None
    return None if score < 0 else min(score, 1.0)


def _jpeg_upload(photo: Image.Image) -> bytes:
    """The photo as JPEG within PhotoRoom's limits; the cutout is scaled back to the photo's size."""
    image = photo.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    while True:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
        if out.tell() <= MAX_UPLOAD_BYTES:
            return out.getvalue()
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)


def _cutout_at_size(png: bytes, photo: Image.Image) -> Image.Image:
    try:
        with Image.open(io.BytesIO(png)) as returned:
            cutout = returned.convert("RGBA")
    except (UnidentifiedImageError, OSError) as error:
        raise BackgroundRemovalFailed(
            "PHOTOROOM_BAD_RESPONSE", "PhotoRoom answered with something that is not an image."
        ) from error
    if cutout.size == photo.size:
        return cutout
    # Downscaled for upload: keep the photo's own full-resolution pixels, take only PhotoRoom's alpha.
    alpha = cutout.getchannel("A").resize(photo.size, Image.Resampling.LANCZOS)
    full = photo.convert("RGBA")
    full.putalpha(alpha)
    return full
