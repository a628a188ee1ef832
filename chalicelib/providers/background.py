"""The background-remover port: the product cut out of a seller's photo, whoever does the cutting.

Adapters: PhotoRoom's v1 segment API (production, `photoroom.py`) and the embedded local remover
(`local_remover.py`, u2netp plus a fast path for plain backgrounds). `background_remover()` picks
one from configuration; handlers never choose.
"""

from __future__ import annotations

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


def background_remover() -> BackgroundRemover:
    """PhotoRoom (with the local remover as fallback) when PHOTOROOM_API_KEY is set, else the local remover.

    Cheap to call: the HTTP session and the ONNX model are built on first use, not here.
    """
    from chalicelib.providers.local_remover import LocalRemover

    if providers()["background_remover"] == "photoroom":
        from chalicelib.providers.photoroom import PhotoRoomRemover

        return FallbackRemover(PhotoRoomRemover(), LocalRemover())
    return LocalRemover()
