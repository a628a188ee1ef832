"""Every Pillow operation on a seller's photos: judging an upload, scoring, the main picture on white.

- `inspect_photo` reads an uploaded photo's bytes into PhotoFacts, or says why it cannot be taken.
  The rules are in chalicelib.domain.photos; this only decodes, and never trusts the file name,
  the content type or Pillow's process-wide settings.
- Scoring never decodes at full resolution: JPEG's DCT scaling (`draft`) hands back a copy at
  1/2-1/8 size for a fraction of the cost, which is all that sharpness, exposure and framing need.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable
from typing import IO

from PIL import (
    ExifTags,
    Image,
    ImageChops,
    ImageDraw,
    ImageFile,
    ImageFilter,
    ImageOps,
    ImageStat,
    JpegImagePlugin,
    PngImagePlugin,
)

from chalicelib.domain.hands import SKIN_CB, SKIN_CR, SKIN_HUE, SKIN_SATURATION
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
from chalicelib.domain.quality import Measurements

ANALYSIS_SIDE = 500  # scoring works on about this long side; the 400 px thumbnail is made from it too
THUMBNAIL_SIDE = 400
MAIN_SIDE = 1200  # MercadoLibre's recommended square
WORK_SIDE = 2000  # the photo's long side while cutting out the product
MAIN_FILL = 0.875  # the product's long side covers 85-90 % of the square
MAX_UPSCALE = 2.0  # a small source is padded, never blown up past 2x
SURE_ALPHA = 128  # a cutout with no pixel at least this opaque found no product
FRAMING_SIDE = 160  # where the product is needs no detail
HAND_SIDE = 128  # an arm is a large region: a small copy finds it in a few milliseconds
UNIFORM_BORDER_STDDEV = 24.0  # per channel; a busy background is well above, a plain one well below
_LAPLACIAN = ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128)


def _oriented(image: Image.Image) -> Image.Image:
    """The photo turned as its EXIF orientation says; the image itself when it says nothing to do
    (exif_transpose would copy it: 480 MB for the largest PNG accepted)."""
    try:
        if _orientation(image) == 1:
            return image
        return ImageOps.exif_transpose(image) or image
    except (ValueError, TypeError, OSError, SyntaxError):
        return image  # garbled EXIF: ingest already decided the photo is usable as stored


def draft_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """What to ask JPEG's DCT scaling for: it picks the smallest of 1/1..1/8 that is at least this."""
    scale = max(size) / long_side
    return max(1, int(size[0] / scale)), max(1, int(size[1] / scale))


def reduced_decode(data: bytes, long_side: int = ANALYSIS_SIDE) -> Image.Image:
    """RGB, oriented, with a long side of about `long_side` (not less, where the photo allows)."""
    with Image.open(io.BytesIO(data)) as source:
        if source.format == "JPEG":
            source.draft("RGB", draft_size(source.size, long_side))
        image = _oriented(source)
        if image.mode in ("P", "PA", "LA"):
            image = image.convert("RGBA").convert("RGB")
        image = _rgb(image)
    if max(image.size) >= 2 * long_side:
        image = image.reduce(max(image.size) // long_side)  # box average: fast, and enough to score
    return image


def full_decode(data: bytes, max_side: int = WORK_SIDE) -> Image.Image:
    """The photo for the main picture, at most `max_side` on its long side.

    The product ends up at most ~1050 px wide on the 1200 px square, so cutting out a 12 MP photo at
    full size only costs time and memory; at 2000 px a product filling half the frame needs no
    enlarging, and a 4000x3000 JPEG decodes at half scale, four times cheaper.
    """
    with Image.open(io.BytesIO(data)) as source:
        if source.format == "JPEG":
            source.draft("RGB", draft_size(source.size, max_side))
        image = _oriented(source)
        if max(image.size) > max_side:
            image.load()  # decoded as drafted above (thumbnail would draft again, at its own scale)
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            # Transparent pixels of a PNG are background: flatten them on white.
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return _rgb(image)


def _rgb(image: Image.Image) -> Image.Image:
    """The pixels as RGB, decoded. A decoded RGB photo is returned as it is: convert() would copy it
    (leaving the `with` block above closes the file, not the pixels)."""
    if image.mode != "RGB":
        return image.convert("RGB")
    image.load()
    return image


def measure(reduced: Image.Image, width: int, height: int) -> Measurements:
    """Scoring inputs from the reduced copy; `width`, `height`: the full photo's, as ingest read them."""
    grey = reduced.convert("L")
    sharpness = ImageStat.Stat(grey.filter(_LAPLACIAN)).var[0]
    histogram = grey.histogram()
    pixels = grey.width * grey.height
    small = reduced.copy()
    small.thumbnail((FRAMING_SIDE, FRAMING_SIDE), Image.Resampling.BILINEAR)
    fill, whole = _framing(small)
    return Measurements(
        width=width,
        height=height,
        sharpness=sharpness,
        mean_luma=ImageStat.Stat(grey).mean[0],
        clipped_dark=sum(histogram[:6]) / pixels,
        clipped_bright=sum(histogram[250:]) / pixels,
        fill=fill,
        whole=whole,
    )


def _framing(image: Image.Image) -> tuple[float | None, bool | None]:
    """The product's box against the border's colour: its share of the frame, and whether it is whole.

    Only a fairly uniform border (a table, a wall, a sheet) says where the product ends; on a shelf
    or a busy room the framing is unknown (None) rather than guessed.
    """
    width, height = image.size
    band = max(2, min(width, height) // 25)
    border = Image.new("RGB", (width * 2 + height * 2, band))
    for offset, strip in enumerate(
        (
            image.crop((0, 0, width, band)),
            image.crop((0, height - band, width, height)),
            image.crop((0, 0, band, height)).rotate(90, expand=True),
            image.crop((width - band, 0, width, height)).rotate(90, expand=True),
        )
    ):
        border.paste(strip, (sum((width, width, height)[:offset]), 0))
    border_stats = ImageStat.Stat(border)
    if sum(border_stats.stddev) / 3 > UNIFORM_BORDER_STDDEV:
        return None, None
    background = tuple(int(v) for v in border_stats.median)
    difference = ImageChops.difference(image, Image.new("RGB", image.size, background)).convert("L")
    mask = difference.point(lambda v: 255 if v > 40 else 0).filter(ImageFilter.MedianFilter(3))
    box = mask.getbbox()
    if box is None:
        return 0.0, False
    left, top, right, bottom = box
    margin = max(1, min(width, height) // 100)
    whole = left > margin and top > margin and right < width - margin and bottom < height - margin
    return (right - left) * (bottom - top) / (width * height), whole


# JPEGs are written without `optimize`: its second pass for Huffman tables took 3-4 times the
# encoding's time (1200x1200: 16-19 ms against 5 ms) to save 2 % of the bytes.


def thumbnail_jpeg(reduced: Image.Image) -> bytes:
    thumb = reduced.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85)
    return out.getvalue()


class EmptyCutout(ValueError):
    """The remover kept nothing: no product stood out from the background (a plain-colour photo)."""


def compose_main_picture(cutout: Image.Image) -> bytes:
    """The product alone, centred on pure white, 1200x1200, RGB JPEG.

    `cutout` is RGBA with alpha = product. Its box is scaled so the long side covers MAIN_FILL of the
    square (at most MAX_UPSCALE times the source); the margins stay untouched white.
    """
    alpha = cutout.getchannel("A")
    box = alpha.point(lambda v: 255 if v > 8 else 0).getbbox()
    # Only faint alpha anywhere is the remover's noise on a plain photo, not a product it is sure of.
    _, most_opaque = alpha.getextrema()
    if box is None or int(most_opaque) < SURE_ALPHA:  # type: ignore[arg-type]  # L: (min, max) ints
        raise EmptyCutout("the cutout is empty: no product was found in the photo")
    product = cutout.crop(box)
    scale = min(MAX_UPSCALE, MAIN_SIDE * MAIN_FILL / max(product.size))
    size = (max(1, round(product.width * scale)), max(1, round(product.height * scale)))
    product = product.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if scale < 0.5 else None)
    canvas = Image.new("RGB", (MAIN_SIDE, MAIN_SIDE), (255, 255, 255))
    canvas.paste(
        product.convert("RGB"),
        ((MAIN_SIDE - size[0]) // 2, (MAIN_SIDE - size[1]) // 2),
        product.getchannel("A"),
    )
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=92, subsampling=0)
    return out.getvalue()


def hand_share(cutout: Image.Image) -> float:
    """The share of the cut-out product that is skin reaching the photo's edge: the arm holding it.

    The rule (skin colour, touching the edge) is chalicelib.domain.hands'; here it is applied to a
    HAND_SIDE copy of the RGBA cut-out, as in the photo: its edge is the photo's edge.
    """
    small = cutout.reduce(max(1, max(cutout.size) // (2 * HAND_SIDE)))
    small.thumbnail((HAND_SIDE, HAND_SIDE), Image.Resampling.BILINEAR)
    product = small.getchannel("A").point(lambda v: 255 if v >= SURE_ALPHA else 0)
    rgb = small.convert("RGB")
    _, cb, cr = rgb.convert("YCbCr").split()
    hue, saturation, _ = rgb.convert("HSV").split()
    skin = product
    for channel, (low, high) in (
        (cb, SKIN_CB),
        (cr, SKIN_CR),
        (hue, SKIN_HUE),
        (saturation, SKIN_SATURATION),
    ):
        skin = ImageChops.darker(
            skin, channel.point(lambda v, low=low, high=high: 255 if low <= v <= high else 0)
        )
    # A frame of skin around the copy joins every region that touches the edge; one flood fill marks them.
    width, height = skin.size
    framed = Image.new("L", (width + 2, height + 2), 255)
    framed.paste(skin, (1, 1))
    ImageDraw.floodfill(framed, (0, 0), 128)
    reaching = framed.crop((1, 1, width + 1, height + 1)).histogram()[128]
    return reaching / max(1, product.histogram()[255])


# -- judging an upload ------------------------------------------------------------------------------

# The plugin classes themselves, not Image.open: open() applies Pillow's global bomb limit (a warning
# at 89 MP, an error at 179 MP that does not say the size). Our limit is MAX_PIXELS, checked on the
# header below. Using the class also pins the decoder to the format the magic bytes announced.
_OPENERS: dict[str, Callable[[IO[bytes]], ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
}
# What a damaged file (or one that is not an image at all) makes Pillow raise, on opening or decoding.
UNREADABLE = (
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


def inspect_photo(
    data: bytes, declared_bytes: int | None = None, sha256: str | None = None
) -> PhotoFacts | Rejection:
    """The facts of an acceptable JPEG or PNG, or the Rejection a seller is shown.

    Never raises on bad bytes, only on a misconfigured Pillow. `sha256`: the bytes' hash when the
    caller computed it while reading them.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then pad a cut-off photo with grey instead of failing. That is a bug in this
        # process, not in the seller's photo: fail loudly rather than accept half photos.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set; photos cannot be checked")
    try:
        return _inspect(data, declared_bytes, sha256)
    except UNREADABLE as error:
        truncated = isinstance(error, EOFError) or "truncated" in str(error)
        return corrupt("truncated" if truncated else "invalid")
    except Exception:
        return corrupt("unreadable")


def _inspect(data: bytes, declared_bytes: int | None, sha256: str | None) -> PhotoFacts | Rejection:
    rejection = check_size(len(data), declared_bytes)
    if rejection:
        return rejection
    detected = sniff_format(data[:SNIFF_BYTES])
    rejection = check_format(detected)
    if rejection:
        return rejection

    # Opening reads the header only; the pixels are allocated by load().
    with _OPENERS[detected](io.BytesIO(data)) as image:
        rejection = check_pixels(*image.size)
        if rejection:
            return rejection
        width, height = image.size
        mode = image.mode
        orientation = _orientation(image)
        if detected == "jpeg":
            # At 1/8 scale: the decoder still reads every byte of the picture (a truncated or damaged
            # file raises all the same) but skips most of the inverse DCT, and allocates 1/64.
            image.draft(mode, (max(1, width // 8), max(1, height // 8)))
        # The one decode: a truncated or damaged file raises here rather than passing as grey.
        image.load()

    if orientation in _QUARTER_TURNS:
        width, height = height, width
    facts = PhotoFacts(
        format=detected,
        width=width,
        height=height,
        mode=mode,
        bytes=len(data),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
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
