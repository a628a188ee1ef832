"""Reads an uploaded photo's bytes with Pillow into PhotoFacts, or says why it cannot be taken.

The rules are in chalicelib.domain.photos; this module only decodes, and never trusts the file name,
the content type or Pillow's process-wide settings.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from io import BytesIO
from typing import IO

from PIL import ExifTags, Image, ImageFile, JpegImagePlugin, PngImagePlugin

from chalicelib.domain.photos import (
    SNIFF_BYTES,
    PhotoFacts,
    Rejection,
    check_format,
    check_pixels,
    check_size,
    corrupt,
    judge,
    sniff_format,
)

# The plugin classes themselves, not Image.open: open() applies Pillow's global bomb limit (a warning
# at 89 MP, an error at 179 MP that does not say the size). Our limit is MAX_PIXELS, checked on the
# header below. Using the class also pins the decoder to the format the magic bytes announced.
_OPENERS: dict[str, Callable[[IO[bytes]], ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
}
# What a damaged file makes Pillow raise, on opening or decoding.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
    struct.error,
    EOFError,
    ZeroDivisionError,
    MemoryError,
)
# EXIF orientations that turn the stored image a quarter turn, so the seller sees it the other way round.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def inspect_photo(data: bytes, declared_bytes: int | None = None) -> PhotoFacts | Rejection:
    """The facts of an acceptable JPEG or PNG, or the Rejection a seller is shown.

    Never raises on bad bytes, only on a misconfigured Pillow.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then pad a cut-off photo with grey instead of failing. That is a bug in this
        # process, not in the seller's photo: fail loudly rather than accept half photos.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set; photos cannot be checked")
    try:
        return _inspect(data, declared_bytes)
    except _DECODE_ERRORS as error:
        truncated = isinstance(error, EOFError) or "truncated" in str(error)
        return corrupt("truncated" if truncated else "invalid")
    except Exception:
        return corrupt("unreadable")


def _inspect(data: bytes, declared_bytes: int | None) -> PhotoFacts | Rejection:
    rejection = check_size(len(data), declared_bytes)
    if rejection:
        return rejection
    detected = sniff_format(data[:SNIFF_BYTES])
    rejection = check_format(detected)
    if rejection:
        return rejection

    # Opening reads the header only; the pixels are allocated by load().
    with _OPENERS[detected](BytesIO(data)) as image:
        rejection = check_pixels(*image.size)
        if rejection:
            return rejection
        # The one full decode: a truncated or damaged file raises here rather than passing as grey.
        image.load()
        width, height = image.size
        mode = image.mode
        orientation = _orientation(image)

    if orientation in _QUARTER_TURNS:
        width, height = height, width
    facts = PhotoFacts(
        format=detected,
        width=width,
        height=height,
        mode=mode,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        orientation=orientation,
    )
    return judge(facts) or facts


def _orientation(image: Image.Image) -> int:
    """EXIF orientation 1-8; 1 when absent or garbled. Phones write odd EXIF; it is no reason to refuse."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
