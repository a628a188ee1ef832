"""Real sample photos for tests, made uploadable.

The Grocery Store Dataset photos are 348x348; the upload limit is 800x600, so tests upscale them
3x with Lanczos (1044x1044). The content stays real (packaging text, glare, shelves).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

GROCERY = Path(__file__).parent / "data" / "photos" / "grocery"


def grocery_photo(
    product: str = "Oatly-Oat-Milk", shot: str = "001", scale: int = 3, fmt: str = "JPEG"
) -> bytes:
    with Image.open(GROCERY / product / f"{product}_{shot}.jpg") as original:
        return upscaled(original, scale, fmt)


def upscaled(original: Image.Image, scale: int = 3, fmt: str = "JPEG") -> bytes:
    """A small dataset photo made uploadable: Lanczos `scale`x, encoded as a phone would."""
    photo = original.convert("RGB")
    if scale != 1:
        photo = photo.resize((photo.width * scale, photo.height * scale), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    photo.save(out, format=fmt, quality=90)
    return out.getvalue()


# -- files made to order: what a hostile or broken upload looks like --------------------------------


def encode(size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB", **options: object) -> bytes:
    """An image with some content (a gradient), so encoders produce real scan data."""
    image = Image.linear_gradient("L").resize(size)
    if mode != "L":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def crafted_png(width: int, height: int, bit_depth: int, idat: bytes) -> bytes:
    """A greyscale PNG with a header of our choosing and whatever IDAT we give it."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )
