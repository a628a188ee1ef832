"""The background-remover port: the product cut out of a seller's photo, whoever does the cutting.

Adapters: PhotoRoom's v1 segment API (production, `photoroom.py`) and the embedded local remover
(`local_remover.py`, u2netp plus a fast path for plain backgrounds). `background_remover()` picks
one from configuration; handlers never choose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from PIL import Image

from chalicelib.config import providers
from chalicelib.observability import logger


@dataclass(frozen=True)
class Cutout:
    image: Image.Image  # RGBA at the photo's size; alpha 255 = product, 0 = background, soft edges allowed
    provider: str  # "photoroom" | "local"
    model: str  # e.g. "photoroom-v1-segment", "u2netp", "border-colour"
    milliseconds: float
    uncertainty: float | None  # 0 (sure) to 1 (unsure); each adapter documents what its number means
    # When the configured remover failed and the fallback cut this: (that remover, its failure code).
    fallback_from: tuple[str, str] | None = None


class BackgroundRemover(Protocol):
    name: str

    def cutout(self, photo: Image.Image) -> Cutout:
        """`photo` is RGB with its EXIF orientation already applied."""
        ...


class BackgroundRemovalFailed(Exception):
    """A remover could not cut the photo out. `code` is for machines, the message for the seller."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FallbackRemover:
    """The primary remover, and the fallback when the primary fails (credits, outage, rejection)."""

    def __init__(self, primary: BackgroundRemover, fallback: BackgroundRemover) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name

    def cutout(self, photo: Image.Image) -> Cutout:
        try:
            return self.primary.cutout(photo)
        except BackgroundRemovalFailed as failure:
            logger.warning(
                "background remover failed; using the fallback",
                extra={"remover": self.primary.name, "code": failure.code, "fallback": self.fallback.name},
            )
            try:
                cutout = self.fallback.cutout(photo)
            except BackgroundRemovalFailed as second:
                # The primary's reason is what the seller can act on (e.g. Lambda has no local model).
                logger.warning("the fallback failed too", extra={"code": second.code})
                raise failure from second
            return replace(cutout, fallback_from=(self.primary.name, failure.code))


# What the images step still does once PhotoRoom gives up: load the layer's model, cut a 12 MP photo
# with u2netp and refine it, compose the 1200 px picture, write it and its thumbnail, record it and
# write the content job. About 6 s at the images function's 1536 MB (BENCHMARKS.md, "PhotoRoom's time
# budget"); kept well above that, since a cold start pays the layer's imports on top.
FALLBACK_RESERVE_SECONDS = 30.0


def background_remover(remaining_ms: Callable[[], int] | None = None) -> BackgroundRemover:
    """PhotoRoom (with the local remover as fallback) when PHOTOROOM_API_KEY is set, else the local remover.

    `remaining_ms` is the Lambda context's get_remaining_time_in_millis: PhotoRoom then gets what
    is left less FALLBACK_RESERVE_SECONDS, so the fallback still fits before the function's timeout.
    Cheap to call: the HTTP session and the ONNX model are built on first use, not here.
    """
    from chalicelib.providers.local_remover import LocalRemover

    if providers()["background_remover"] == "photoroom":
        from chalicelib.providers.photoroom import PhotoRoomRemover

        time_left = None if remaining_ms is None else _less_the_fallback(remaining_ms)
        return FallbackRemover(PhotoRoomRemover(time_left=time_left), LocalRemover())
    return LocalRemover()


def _less_the_fallback(remaining_ms: Callable[[], int]) -> Callable[[], float]:
    return lambda: remaining_ms() / 1000 - FALLBACK_RESERVE_SECONDS
