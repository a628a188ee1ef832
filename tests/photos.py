"""Real sample photos for tests, made uploadable.

The Grocery Store Dataset photos are 348x348; the upload limit is 800x600, so tests upscale them
3x with Lanczos (1044x1044). The content stays real (packaging text, glare, shelves).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

GROCERY = Path(__file__).parent / "data" / "photos" / "grocery"


def grocery_photo(
    product: str = "Oatly-Oat-Milk", shot: str = "001", scale: int = 3, fmt: str = "JPEG"
) -> bytes:
    with Image.open(GROCERY / product / f"{product}_{shot}.jpg") as original:
        photo = original.convert("RGB")
    if scale != 1:
        photo = photo.resize((photo.width * scale, photo.height * scale), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    photo.save(out, format=fmt, quality=90)
    return out.getvalue()
