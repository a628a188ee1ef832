"""The PhotoRoom adapter against a local server that speaks PhotoRoom v1's segment wire format.

The server checks what PhotoRoom checks (the `x-api-key` header, a multipart `image_file` holding
an image) and answers as PhotoRoom does: a PNG cutout on transparency at the input's size with an
`x-uncertainty-score` header, or a JSON error `{"detail", "status_code", "type"}`. Failures are
scripted per test; the adapter itself is used as shipped.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chalicelib.providers import photoroom as photoroom_module
from chalicelib.providers.background import (
    FALLBACK_RESERVE_SECONDS,
    BackgroundRemovalFailed,
    Cutout,
    FallbackRemover,
    background_remover,
)
from chalicelib.providers.local_remover import LocalRemover
from chalicelib.providers.photoroom import MAX_SIDE, MIN_ATTEMPT_SECONDS, PhotoRoomRemover
from infra.local.environment import function_timeout
from tests.photoroom_api import API_KEY, FakePhotoRoom, photo, remover


def test_a_cutout_comes_back_at_the_photo_size(photoroom: FakePhotoRoom) -> None:
    cutout = remover().cutout(photo())
    assert (cutout.provider, cutout.model) == ("photoroom", "photoroom-v1-segment")
    assert cutout.image.mode == "RGBA" and cutout.image.size == (1200, 900)
    assert cutout.uncertainty == pytest.approx(0.12)
    assert cutout.fallback_from is None
    (seen,) = photoroom.seen
    assert seen.api_key == API_KEY
    assert seen.image_format == "JPEG" and seen.image_size == (1200, 900)
    assert seen.form == {"format": "png", "size": "full"}  # no bg_color: we compose on white ourselves


def test_a_large_photo_is_sent_smaller_and_its_cutout_scaled_back(photoroom: FakePhotoRoom) -> None:
    cutout = remover().cutout(photo((5000, 3000)))
    (seen,) = photoroom.seen
    assert seen.image_size == (MAX_SIDE, 2400)
    assert cutout.image.size == (5000, 3000)
    alpha = cutout.image.getchannel("A")
    assert alpha.getpixel((2500, 1500)) == 255 and alpha.getpixel((10, 10)) == 0


def test_the_configured_remover_is_photoroom_with_a_local_fallback(photoroom: FakePhotoRoom) -> None:
    configured = background_remover()
    assert isinstance(configured, FallbackRemover)
    assert isinstance(configured.primary, PhotoRoomRemover) and isinstance(configured.fallback, LocalRemover)


def test_without_a_key_the_remover_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHOTOROOM_API_KEY", raising=False)
    monkeypatch.delenv("PHOTOROOM_API_KEY_PARAMETER", raising=False)
    assert isinstance(background_remover(), LocalRemover)


def test_no_credits_falls_back_to_the_local_remover_at_once(photoroom: FakePhotoRoom) -> None:
    pytest.importorskip("numpy", reason="the local fallback needs the local extras (requirements-local.txt)")
    body = json.dumps({"detail": "Not enough credits", "status_code": 402, "type": "payment_required"})
    photoroom.script = [(402, {"Content-Type": "application/json"}, body.encode())]
    cutout = background_remover().cutout(photo())
    assert len(photoroom.seen) == 1  # 402 is final: no retry
    assert cutout.provider == "local"
    assert cutout.fallback_from == ("photoroom", "PHOTOROOM_CREDITS_EXHAUSTED")
    assert cutout.image.size == (1200, 900)


def test_when_the_fallback_fails_too_photoroom_s_reason_stands(
    photoroom: FakePhotoRoom, tmp_path: Path
) -> None:
    photoroom.script = [(402, {}, b'{"detail": "Not enough credits"}')]
    grain = Image.effect_noise((400, 300), 64).convert("RGB")  # no plain border: the local path needs u2netp
    both = FallbackRemover(remover(), LocalRemover(tmp_path / "absent.onnx"))
    with pytest.raises(BackgroundRemovalFailed) as failure:
        both.cutout(grain)
    assert failure.value.code == "PHOTOROOM_CREDITS_EXHAUSTED"
    assert isinstance(failure.value.__cause__, BackgroundRemovalFailed)
    assert failure.value.__cause__.code == "LOCAL_MODEL_MISSING"


def test_server_errors_are_retried(photoroom: FakePhotoRoom) -> None:
    photoroom.script = [(500, {}, b"Internal Server Error"), (503, {}, b"")]
    cutout = remover().cutout(photo())
    assert len(photoroom.seen) == 3
    assert cutout.provider == "photoroom"


def test_repeated_server_errors_mean_unavailable(photoroom: FakePhotoRoom) -> None:
    photoroom.script = [(500, {}, b"")] * 3
    with pytest.raises(BackgroundRemovalFailed) as failure:
        remover().cutout(photo())
    assert failure.value.code == "PHOTOROOM_UNAVAILABLE"
    assert len(photoroom.seen) == 3


def test_an_unreachable_service_is_unavailable_after_the_retries() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = PhotoRoomRemover(api_key=API_KEY, base_url=f"http://127.0.0.1:{port}", backoff_base=0.01)
    with pytest.raises(BackgroundRemovalFailed) as failure:
        unreachable.cutout(photo())
    assert failure.value.code == "PHOTOROOM_UNAVAILABLE"


def test_retry_after_is_honoured(photoroom: FakePhotoRoom) -> None:
    photoroom.script = [(429, {"Retry-After": "1"}, b'{"detail": "Too many requests"}')]
    cutout = remover().cutout(photo())
    first, second = photoroom.seen
    assert second.at - first.at >= 0.95  # the backoff alone would have waited ~0.01 s
    assert cutout.provider == "photoroom"


def test_a_rejected_photo_carries_photoroom_s_reason(photoroom: FakePhotoRoom) -> None:
    detail = "The image is too small: minimum size is 50x50"
    body = json.dumps({"detail": detail, "status_code": 400, "type": "bad_request"})
    photoroom.script = [(400, {"Content-Type": "application/json"}, body.encode())]
    with pytest.raises(BackgroundRemovalFailed) as failure:
        remover().cutout(photo())
    assert failure.value.code == "PHOTOROOM_REJECTED"
    assert detail in failure.value.message
    assert len(photoroom.seen) == 1


def test_the_api_key_is_never_logged(photoroom: FakePhotoRoom, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    photoroom.script = [(500, {}, b""), (429, {"Retry-After": "0"}, b"")]
    remover().cutout(photo())
    photoroom.script = [(400, {}, b'{"detail": "bad image"}')]
    with pytest.raises(BackgroundRemovalFailed) as failure:
        remover().cutout(photo())
    assert "PhotoRoom attempt failed" in caplog.text  # the capture did see the adapter's logs
    # Every handler (Powertools' JSON on stdout too) formats from these records and their `extra` fields.
    records = [str(vars(record)) for record in caplog.records]
    for text in (*records, str(failure.value), repr(failure.value)):
        assert API_KEY not in text


# -- the function's remaining time ----------------------------------------------------------------


def test_no_attempt_starts_without_the_time_to_finish(photoroom: FakePhotoRoom) -> None:
    late = PhotoRoomRemover(backoff_base=0.01, time_left=lambda: MIN_ATTEMPT_SECONDS - 0.5)
    with pytest.raises(BackgroundRemovalFailed) as failure:
        late.cutout(photo())
    assert failure.value.code == "PHOTOROOM_OUT_OF_TIME"
    assert photoroom.seen == []


def test_a_hanging_photoroom_is_left_for_the_fallback_within_the_time_left(
    photoroom: FakePhotoRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaled down: 2.5 s left, 1 s per attempt at least; PhotoRoom answers after 5 s."""
    pytest.importorskip("numpy", reason="the local fallback needs the local extras (requirements-local.txt)")
    monkeypatch.setattr(photoroom_module, "MIN_ATTEMPT_SECONDS", 1.0)
    monkeypatch.setattr(photoroom_module, "TIMEOUT", (1.0, 60.0))
    photoroom.hang = 5.0
    deadline = time.monotonic() + 2.5
    primary = PhotoRoomRemover(backoff_base=0.01, time_left=lambda: deadline - time.monotonic())
    cutout = FallbackRemover(primary, LocalRemover()).cutout(photo())
    assert cutout.provider == "local"
    assert cutout.fallback_from == ("photoroom", "PHOTOROOM_OUT_OF_TIME")
    assert len(photoroom.seen) == 1  # the read timeout was what was left, not 60 s: no second try fits


def test_an_answer_trickling_past_the_time_left_is_abandoned(
    photoroom: FakePhotoRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk comes within the read timeout; the whole body would not come within the time left."""
    monkeypatch.setattr(photoroom_module, "MIN_ATTEMPT_SECONDS", 1.0)
    monkeypatch.setattr(photoroom_module, "TIMEOUT", (1.0, 60.0))
    monkeypatch.setattr(photoroom_module, "CHUNK", 1024)
    photoroom.trickle = 0.2
    deadline = time.monotonic() + 2.0
    primary = PhotoRoomRemover(backoff_base=0.01, time_left=lambda: deadline - time.monotonic())
    with pytest.raises(BackgroundRemovalFailed) as failure:
        primary.cutout(photo())
    assert failure.value.code == "PHOTOROOM_OUT_OF_TIME"
    assert len(photoroom.seen) == 1


class LambdaClock:
    """A Lambda context's clock, moved by what the remover waits for instead of by real time."""

    def __init__(self, timeout_seconds: float, spent_before: float) -> None:
        self.timeout = timeout_seconds
        self.now = spent_before

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout - self.now) * 1000)


class HangingSession:
    """PhotoRoom that never answers: every attempt costs its whole connect + read timeout."""

    def __init__(self, clock: LambdaClock) -> None:
        self.clock = clock
        self.timeouts: list[tuple[float, float]] = []

    def post(self, *_: Any, timeout: tuple[float, float], **__: Any) -> Any:
        import requests

        self.timeouts.append(timeout)
        self.clock.now += timeout[0] + timeout[1]
        raise requests.ReadTimeout("scripted: no answer")


class TimedFallback:
    name = "local"

    def __init__(self, clock: LambdaClock) -> None:
        self.clock = clock
        self.started_at: float | None = None

    def cutout(self, image: Image.Image) -> Cutout:
        self.started_at = self.clock.now
        return Cutout(image.convert("RGBA"), "local", "stand-in", 0.0, None)


@pytest.mark.parametrize("spent_before", [5.0, 40.0, 85.0])
def test_the_images_functions_worst_case_leaves_the_fallback_its_reserve(
    photoroom: FakePhotoRoom, spent_before: float
) -> None:
    """The images function's own timeout (.chalice/config.json), PhotoRoom hanging on every attempt,
    after `spent_before` seconds of scoring photos: whatever PhotoRoom tries, the fallback starts
    with at least FALLBACK_RESERVE_SECONDS left (BENCHMARKS.md: PhotoRoom's time budget)."""
    timeout = function_timeout("images", "dev")
    clock = LambdaClock(timeout, spent_before)
    configured = background_remover(clock.get_remaining_time_in_millis)
    assert isinstance(configured, FallbackRemover) and isinstance(configured.primary, PhotoRoomRemover)
    session = HangingSession(clock)
    configured.primary._session = session  # type: ignore[assignment]
    configured.primary.sleep = lambda seconds: setattr(clock, "now", clock.now + seconds)
    fallback = TimedFallback(clock)
    configured.fallback = fallback
    cutout = configured.cutout(photo())
    assert cutout.fallback_from == ("photoroom", "PHOTOROOM_OUT_OF_TIME")
    assert fallback.started_at is not None
    assert timeout - fallback.started_at >= FALLBACK_RESERVE_SECONDS
    assert all(read <= 60 for _, read in session.timeouts)
    if spent_before + FALLBACK_RESERVE_SECONDS + MIN_ATTEMPT_SECONDS <= timeout:
        assert session.timeouts, "there was time for an attempt"
