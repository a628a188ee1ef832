"""What makes a seller's photo acceptable, decided from facts about it, without any imaging library.

`chalicelib.imaging` decodes the bytes with Pillow and gathers the facts; the rules and the words a
seller reads live here. Every rejection carries a stable code and the numbers behind its message,
so a UI can translate it instead of parsing English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.limits import MAX_IMAGE_BYTES, MAX_PIXELS, MB, MIN_HEIGHT, MIN_WIDTH

ACCEPTED_FORMATS = ("jpeg", "png")
# The magic numbers of every format sniff_format names fit in this many leading bytes.
SNIFF_BYTES = 256
# 8-bit modes that convert to RGB without guessing; CMYK, 16/32-bit and float do not.
COLOUR_MODES = frozenset({"RGB", "RGBA", "L", "LA", "P", "1"})

_FORMAT_NAMES = {
    "gif": "GIF",
    "webp": "WebP",
    "heic": "HEIC",
    "avif": "AVIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "svg": "SVG",
    "pdf": "PDF",
}
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


@dataclass(frozen=True)
class PhotoFacts:
    """A decoded photo as the seller sees it: width and height are after the EXIF rotation."""

    format: str
    width: int
    height: int
    mode: str
    bytes: int
    sha256: str
    orientation: int = 1


@dataclass(frozen=True)
class Rejection:
    code: str
    message: str
    params: dict[str, int | str] = field(default_factory=dict)


def sniff_format(head: bytes) -> str:
    """The format the leading bytes announce, whatever the file is called: "jpeg", "png", "gif"...

    Only magic numbers count, so a GIF renamed .jpg is still a GIF.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(b"BM"):
        return "bmp"
    # Classic and BigTIFF, both byte orders.
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"%PDF-"):
        return "pdf"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<?xml", b"<svg")):
        return "svg"
    return "unknown"


def _sniff_ftyp(head: bytes) -> str:
    """HEIF family (ISO BMFF): the major brand, then the compatible ones, say what the file holds."""
    box_size = int.from_bytes(head[:4], "big")
    box = head[8 : max(12, min(box_size, len(head)))]
    # Major brand, 4 bytes of minor version, then compatible brands.
    brands = [box[:4]] + [box[i : i + 4] for i in range(8, len(box) - 3, 4)]
    if any(brand in _AVIF_BRANDS for brand in brands):
        return "avif"
    if any(brand in _HEIC_BRANDS for brand in brands):
        return "heic"
    return "unknown"


def check_size(actual_bytes: int, declared_bytes: int | None) -> Rejection | None:
    """Reject an empty or oversized file, or one bigger than the upload said it would be."""
    if actual_bytes <= 0:
        return Rejection("IMAGE_EMPTY", "image is empty (0 bytes); choose the photo again", {"bytes": 0})
    if actual_bytes > MAX_IMAGE_BYTES:
        return Rejection(
            "IMAGE_TOO_LARGE",
            f"image is {_megabytes(actual_bytes)}; at most {_megabytes(MAX_IMAGE_BYTES)} is allowed",
            {"bytes": actual_bytes, "limit": MAX_IMAGE_BYTES},
        )
    if declared_bytes is not None and actual_bytes > declared_bytes:
        return Rejection(
            "IMAGE_LARGER_THAN_DECLARED",
            f"image is {actual_bytes} bytes but the upload declared {declared_bytes}; upload it again",
            {"bytes": actual_bytes, "declared": declared_bytes},
        )
    return None


def check_format(detected: str) -> Rejection | None:
    """Only JPEG and PNG are taken: those are what the listing pipeline and MercadoLibre handle."""
    if detected in ACCEPTED_FORMATS:
        return None
    name = _FORMAT_NAMES.get(detected)
    message = (
        f"image is a {name} file; save it as a JPEG or PNG"
        if name
        else "file is not a JPEG or PNG image; save the photo as a JPEG or PNG"
    )
    return Rejection("IMAGE_FORMAT_UNSUPPORTED", message, {"detected": detected})


def check_pixels(width: int, height: int) -> Rejection | None:
    """Checked on the header alone, before decoding: the pixels of a bomb never get allocated."""
    if width * height <= MAX_PIXELS:
        return None
    return Rejection(
        "IMAGE_TOO_MANY_PIXELS",
        f"image is {width}x{height} ({_ceil_div(width * height, 1_000_000)} megapixels); "
        f"at most {MAX_PIXELS // 1_000_000} megapixels are allowed",
        {"width": width, "height": height, "limit": MAX_PIXELS},
    )


def check_dimensions(width: int, height: int) -> Rejection | None:
    """At least MIN_WIDTH x MIN_HEIGHT, either way round: an upright 600x800 photo is fine."""
    if max(width, height) >= MIN_WIDTH and min(width, height) >= MIN_HEIGHT:
        return None
    # Say what is needed in the photo's own orientation, so an upright photo is told 600x800.
    min_width, min_height = (MIN_HEIGHT, MIN_WIDTH) if height > width else (MIN_WIDTH, MIN_HEIGHT)
    return Rejection(
        "IMAGE_TOO_SMALL",
        f"image is {width}x{height}; at least {min_width}x{min_height} is needed",
        {"width": width, "height": height, "min_width": min_width, "min_height": min_height},
    )


def check_colour_mode(mode: str) -> Rejection | None:
    if mode in COLOUR_MODES:
        return None
    if mode == "CMYK":
        message = "image uses CMYK colours; save it as an RGB JPEG or PNG"
    elif mode.startswith("I;16"):
        message = "image uses 16-bit colours; save it as an 8-bit RGB JPEG or PNG"
    elif mode in ("I", "F"):
        message = "image uses 32-bit colours; save it as an 8-bit RGB JPEG or PNG"
    else:
        message = f"image uses {mode} colours; save it as an RGB JPEG or PNG"
    return Rejection("IMAGE_COLOUR_MODE", message, {"mode": mode})


def corrupt(reason: str) -> Rejection:
    """The bytes claim a JPEG or PNG but do not decode; `reason` is "truncated" or another word."""
    message = (
        "image file is incomplete; upload it again"
        if reason == "truncated"
        else "image file is damaged and cannot be read; save it again as a JPEG or PNG"
    )
    return Rejection("IMAGE_CORRUPT", message, {"reason": reason})


def judge(facts: PhotoFacts) -> Rejection | None:
    """The rules a decoded photo must pass; None when it is fine."""
    return check_colour_mode(facts.mode) or check_dimensions(facts.width, facts.height)


def _megabytes(size: int) -> str:
    # Rounded up, so a file one byte over the limit never reads as exactly the limit.
    tenths = _ceil_div(size * 10, MB)
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10} MB"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)
