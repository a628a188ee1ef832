"""`POST /pictures/items/upload`: the checks of the trabajar-con-imagenes page, and the variations.

JPG or PNG (by content, not by name), up to 10 MB, at least 500x500 (the "M" version's minimum);
the stored picture is the RGB image fitted into 1920x1920 (version F). The response lists size
variations with URLs served by this sandbox (`/pictures/{id}/{size}.jpg`); `secure_url` is the same
plain-HTTP URL, since the sandbox only speaks HTTP.
"""

from __future__ import annotations

import io
import secrets
from datetime import UTC, datetime
from typing import Any

from PIL import Image, UnidentifiedImageError

from infra.local.mercadolibre.errors import ApiError, cause
from infra.local.mercadolibre.state import Picture, SandboxState

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 500
# Version letter and bounding box, largest first, as in pictures/tecnogo_picture_get.json.
VARIATIONS = (("F", 1920), ("O", 500), ("C", 400), ("V", 320), ("I", 90))
ACCEPTED_FORMATS = ("JPEG", "PNG")


def picture_error(code: str, message: str, cause_id: int | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, [cause(code, message, ["file"], cause_id, "pictures")])


def upload(state: SandboxState, seller_id: int, site_id: str, content: bytes | None) -> Picture:
    if content is None:
        # The code a real client maps for an upload without a file part.
        raise picture_error("file.not_found", "There is no file in request.")
    if len(content) > MAX_BYTES:
        raise picture_error("file.size_exceeded", "The file exceeds the maximum size of 10 MB.")
    invalid_format = picture_error(
        "file.invalid_format", "Invalid image format. Accepted formats are JPG, JPEG and PNG."
    )
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise invalid_format
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise invalid_format from error
    if min(rgb.size) < MIN_SIDE:
        # Real code and cause id (validaciones page); the rule is the 500x500 minimum of the "M" version.
        raise picture_error(
            "item.pictures.invalid_size",
            "The photos must have a minimum size of 500 pixels on each side.",
            3703,
        )
    rgb.thumbnail((1920, 1920), Image.Resampling.LANCZOS)
    stored = io.BytesIO()
    rgb.save(stored, "JPEG", quality=90)
    now = datetime.fromtimestamp(state.clock(), UTC)
    picture = Picture(
        id=f"{secrets.randbelow(900_000) + 100_000}-{site_id}{secrets.randbelow(10**11):011d}_{now:%m%Y}",
        seller_id=seller_id,
        width=rgb.width,
        height=rgb.height,
        date_created=now.isoformat(timespec="milliseconds"),
    )
    with state.change():
        state.pictures[picture.id] = picture
        state.save_picture_bytes(picture.id, stored.getvalue())
    return picture


def variation_sizes(picture: Picture) -> list[str]:
    sizes = []
    for _, box in VARIATIONS:
        scale = min(1.0, box / max(picture.width, picture.height))
        sizes.append(f"{round(picture.width * scale)}x{round(picture.height * scale)}")
    return sizes


def picture_json(picture: Picture, base_url: str) -> dict[str, Any]:
    """The upload (and `GET /pictures/{id}`) response."""
    variations = []
    for size in variation_sizes(picture):
        url = f"{base_url}pictures/{picture.id}/{size}.jpg"
        variations.append({"size": size, "url": url, "secure_url": url})
    return {
        "id": picture.id,
        "max_size": variations[0]["size"],
        "dominant_color": None,
        "crop": {"y_size": None, "x_size": None, "y_offset": None, "x_offset": None},
        "variations": variations,
    }


def render(state: SandboxState, picture_id: str, size: str) -> bytes | None:
    """The JPEG bytes of one variation, or None when there is no such picture or size."""
    with state.lock:
        picture = state.pictures.get(picture_id)
        content = state.picture_bytes.get(picture_id)
    if picture is None or content is None or size not in variation_sizes(picture):
        return None
    if size == variation_sizes(picture)[0]:
        return content
    width, height = (int(side) for side in size.split("x"))
    with Image.open(io.BytesIO(content)) as image:
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    resized.save(output, "JPEG", quality=85)
    return output.getvalue()
