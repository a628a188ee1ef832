"""Photo intake: what Pillow reads from the bytes and what the domain rules make of it."""

from __future__ import annotations

import hashlib
import random
import struct
import zipfile
import zlib
from io import BytesIO

import pytest
from PIL import Image, ImageFile

from chalicelib.domain.limits import MAX_IMAGE_BYTES, MAX_PIXELS
from chalicelib.domain.photos import (
    PhotoFacts,
    Rejection,
    check_dimensions,
    check_size,
    judge,
    sniff_format,
)
from chalicelib.imaging import inspect_photo
from tests.photos import crafted_png, encode

CODES = {
    "IMAGE_EMPTY",
    "IMAGE_TOO_LARGE",
    "IMAGE_LARGER_THAN_DECLARED",
    "IMAGE_FORMAT_UNSUPPORTED",
    "IMAGE_CORRUPT",
    "IMAGE_TOO_MANY_PIXELS",
    "IMAGE_TOO_SMALL",
    "IMAGE_COLOUR_MODE",
}


def accepted(result: PhotoFacts | Rejection) -> PhotoFacts:
    assert isinstance(result, PhotoFacts), result
    return result


def rejected(result: PhotoFacts | Rejection, code: str) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.code == code, result
    return result


# --- accepted photos -------------------------------------------------------------------------------


def test_jpeg_is_accepted_with_its_facts() -> None:
    data = encode((1200, 900))
    facts = accepted(inspect_photo(data, declared_bytes=len(data)))
    assert facts == PhotoFacts(
        format="jpeg",
        width=1200,
        height=900,
        mode="RGB",
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        orientation=1,
    )


def test_png_is_accepted() -> None:
    data = encode((1000, 800), "PNG", "RGBA")
    facts = accepted(inspect_photo(data))
    assert (facts.format, facts.width, facts.height, facts.mode) == ("png", 1000, 800, "RGBA")


def test_portrait_photo_is_accepted() -> None:
    facts = accepted(inspect_photo(encode((600, 800))))
    assert (facts.width, facts.height) == (600, 800)


def test_exif_rotation_gives_the_size_the_seller_sees() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    facts = accepted(inspect_photo(encode((900, 1200), exif=exif)))
    assert (facts.width, facts.height, facts.orientation) == (1200, 900, 6)


def test_exif_orientation_that_keeps_the_axes() -> None:
    exif = Image.Exif()
    exif[0x0112] = 3
    facts = accepted(inspect_photo(encode((1200, 900), exif=exif)))
    assert (facts.width, facts.height, facts.orientation) == (1200, 900, 3)


def test_out_of_range_orientation_counts_as_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 9
    facts = accepted(inspect_photo(encode((1200, 900), exif=exif)))
    assert (facts.width, facts.height, facts.orientation) == (1200, 900, 1)


@pytest.mark.parametrize("junk", [b"", b"II*\x00\xff\xff\xff\x7f", b"MM\x00*\x00\x00\x00\x08\xff\xff"])
def test_garbled_exif_is_ignored(junk: bytes) -> None:
    data = encode((1200, 900))
    payload = b"Exif\x00\x00" + junk + random.Random(3).randbytes(300)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    spliced = data[:2] + app1 + data[2:]
    facts = accepted(inspect_photo(spliced))
    assert (facts.width, facts.height, facts.orientation) == (1200, 900, 1)


def test_jpeg_with_a_zip_appended_is_read_as_the_jpeg_it_starts_with() -> None:
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.txt", "not a photo")
    data = encode((1200, 900)) + archive.getvalue()
    facts = accepted(inspect_photo(data))
    assert (facts.format, facts.bytes) == ("jpeg", len(data))
    assert facts.sha256 == hashlib.sha256(data).hexdigest()


# --- size and declared size ------------------------------------------------------------------------


def test_empty_file() -> None:
    assert rejected(inspect_photo(b""), "IMAGE_EMPTY").params == {"bytes": 0}


def test_file_over_the_byte_limit_is_refused_before_decoding() -> None:
    # Not a decodable JPEG at all: it would be IMAGE_CORRUPT if it were decoded.
    data = b"\xff\xd8\xff" + bytes(MAX_IMAGE_BYTES + 1 - 3)
    rejection = rejected(inspect_photo(data), "IMAGE_TOO_LARGE")
    assert rejection.params == {"bytes": MAX_IMAGE_BYTES + 1, "limit": MAX_IMAGE_BYTES}
    assert rejection.message == "image is 10.1 MB; at most 10 MB is allowed"


def test_file_larger_than_declared() -> None:
    data = encode((1200, 900))
    rejection = rejected(inspect_photo(data, declared_bytes=len(data) - 1), "IMAGE_LARGER_THAN_DECLARED")
    assert rejection.params == {"bytes": len(data), "declared": len(data) - 1}


def test_check_size_boundaries() -> None:
    assert check_size(MAX_IMAGE_BYTES, None) is None
    assert check_size(100, 100) is None
    assert check_size(99, 100) is None
    rejection = check_size(MAX_IMAGE_BYTES + 1, 1)
    assert rejection is not None
    assert rejection.code == "IMAGE_TOO_LARGE"


# --- dimensions ------------------------------------------------------------------------------------


def test_small_photo_is_refused_with_the_numbers() -> None:
    rejection = rejected(inspect_photo(encode((640, 480))), "IMAGE_TOO_SMALL")
    assert rejection.message == "image is 640x480; at least 800x600 is needed"
    assert rejection.params == {"width": 640, "height": 480, "min_width": 800, "min_height": 600}


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(800, 600, True), (600, 800, True), (799, 600, False), (800, 599, False), (600, 799, False)],
)
def test_dimension_boundaries(width: int, height: int, ok: bool) -> None:
    assert (check_dimensions(width, height) is None) is ok


def test_small_upright_photo_is_told_the_upright_minimum() -> None:
    rejection = check_dimensions(500, 700)
    assert rejection is not None
    assert rejection.message == "image is 500x700; at least 600x800 is needed"
    assert rejection.params == {"width": 500, "height": 700, "min_width": 600, "min_height": 800}


def test_header_claiming_too_many_pixels_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = crafted_png(30000, 30000, 8, zlib.compress(b"\x00" * 30001))
    decoded: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image))
    rejection = rejected(inspect_photo(data), "IMAGE_TOO_MANY_PIXELS")
    assert decoded == []  # refused from the header: no pixel was decoded
    assert rejection.params == {"width": 30000, "height": 30000, "limit": MAX_PIXELS}


def test_png_decompression_bomb_is_refused() -> None:
    # 12000x12000 1-bit: 144 MP that inflate to 18 MB of rows (and 144 MB in Pillow) from ~18 KB.
    # Below Pillow's own 179 MP error threshold, so only our check stands in the way.
    rows = (b"\x00" + bytes(12000 // 8)) * 12000
    data = crafted_png(12000, 12000, 1, zlib.compress(rows, 9))
    assert len(data) < 100_000
    rejection = rejected(inspect_photo(data), "IMAGE_TOO_MANY_PIXELS")
    assert rejection.params == {"width": 12000, "height": 12000, "limit": MAX_PIXELS}


# --- formats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "BMP", "TIFF"])
def test_other_image_formats_are_refused(fmt: str) -> None:
    data = encode((1200, 900), fmt)
    rejection = rejected(inspect_photo(data), "IMAGE_FORMAT_UNSUPPORTED")
    assert rejection.params == {"detected": fmt.lower()}


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(200)
# Major brand mif1, AVIF only among the compatible brands.
AVIF_MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00avifmiaf" + bytes(200)
SVG = b'\xef\xbb\xbf \n<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'
BARE_SVG = b'  <svg xmlns="http://www.w3.org/2000/svg" width="900" height="900"/>'


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (HEIC, "heic"),
        (AVIF, "avif"),
        (AVIF_MIF1, "avif"),
        (SVG, "svg"),
        (BARE_SVG, "svg"),
        (b"%PDF-1.7\n", "pdf"),
        (b"GIF89a" + encode((1200, 900)), "gif"),  # GIF magic with a JPEG inside is a GIF
        (b"hello, this is text", "unknown"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2", "unknown"),  # an MP4 video
    ],
)
def test_files_are_judged_by_their_magic_bytes(data: bytes, detected: str) -> None:
    rejection = rejected(inspect_photo(data), "IMAGE_FORMAT_UNSUPPORTED")
    assert rejection.params == {"detected": detected}


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "unknown"),
        (b"BM", "bmp"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"", "unknown"),
        (b"\xff\xd8", "unknown"),
    ],
)
def test_sniff_format(head: bytes, fmt: str) -> None:
    assert sniff_format(head) == fmt


# --- colour modes ----------------------------------------------------------------------------------


def test_cmyk_jpeg_is_refused() -> None:
    rejection = rejected(inspect_photo(encode((1200, 900), mode="CMYK")), "IMAGE_COLOUR_MODE")
    assert rejection.params == {"mode": "CMYK"}
    assert rejection.message == "image uses CMYK colours; save it as an RGB JPEG or PNG"


def test_16_bit_png_is_refused() -> None:
    rejection = rejected(inspect_photo(encode((1200, 900), "PNG", "I;16")), "IMAGE_COLOUR_MODE")
    assert str(rejection.params["mode"]).startswith("I;16")
    assert "16-bit" in rejection.message


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1"])
def test_8_bit_modes_are_accepted(mode: str) -> None:
    facts = PhotoFacts("png", 1200, 900, mode, 1, "0" * 64)
    assert judge(facts) is None


# --- damaged files ---------------------------------------------------------------------------------


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode((1200, 900))
    rejection = rejected(inspect_photo(data[: len(data) // 2]), "IMAGE_CORRUPT")
    assert rejection.params == {"reason": "truncated"}


def test_truncated_png_is_corrupt() -> None:
    data = encode((1200, 900), "PNG")
    rejected(inspect_photo(data[: len(data) // 2]), "IMAGE_CORRUPT")


def test_jpeg_magic_with_nothing_behind_it_is_corrupt() -> None:
    rejected(inspect_photo(b"\xff\xd8\xff" + bytes(100)), "IMAGE_CORRUPT")


def test_truncation_is_not_tolerated_even_if_someone_sets_pillow_to() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # nothing we import changes it
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
        with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
            inspect_photo(encode((1200, 900)))


def test_random_damage_never_raises() -> None:
    rng = random.Random(7)
    originals = [encode((96, 72)), encode((96, 72), "PNG")]
    codes: set[str] = set()
    for i in range(300):
        data = bytearray(originals[i % 2])
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.4:
            del data[rng.randrange(len(data)) :]
        result = inspect_photo(bytes(data))
        assert isinstance(result, PhotoFacts | Rejection)
        if isinstance(result, Rejection):
            assert result.code in CODES
            codes.add(result.code)
    # The damage must have reached the decoder, not just the magic-byte check.
    assert "IMAGE_CORRUPT" in codes
