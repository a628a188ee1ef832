"""The main picture: the product alone, centred on pure white, 1200x1200, RGB JPEG, not over-enlarged."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from chalicelib.imaging import MAIN_SIDE, compose_main_picture


def _cutout(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    cutout = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(cutout).rectangle(box, fill=(30, 90, 200, 255))
    return cutout


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _content_box(picture: Image.Image) -> tuple[int, int, int, int]:
    grey = picture.convert("L").point(lambda v: 255 if v < 240 else 0)
    box = grey.getbbox()
    assert box is not None
    return box


def test_border_rows_and_columns_are_pure_white_and_the_product_is_centred_and_large() -> None:
    picture = _decoded(compose_main_picture(_cutout((3000, 4000), (900, 700, 2100, 3300))))
    assert picture.size == (MAIN_SIDE, MAIN_SIDE) and picture.mode == "RGB" and picture.format == "JPEG"
    for x in range(MAIN_SIDE):
        assert picture.getpixel((x, 0)) == picture.getpixel((x, MAIN_SIDE - 1)) == (255, 255, 255)
    for y in range(MAIN_SIDE):
        assert picture.getpixel((0, y)) == picture.getpixel((MAIN_SIDE - 1, y)) == (255, 255, 255)
    left, top, right, bottom = _content_box(picture)
    assert 0.85 * MAIN_SIDE <= bottom - top <= 0.9 * MAIN_SIDE  # the long side fills 85-90 %
    assert abs((left + right) / 2 - MAIN_SIDE / 2) <= 2 and abs((top + bottom) / 2 - MAIN_SIDE / 2) <= 2


def test_a_small_source_is_padded_not_blown_up_past_twice_its_size() -> None:
    picture = _decoded(compose_main_picture(_cutout((400, 400), (100, 100, 299, 299))))
    left, _, right, _ = _content_box(picture)
    assert right - left == pytest.approx(400, abs=4)  # 200 px at most doubled
    assert picture.getpixel((100, 100)) == (255, 255, 255)


def test_an_empty_cutout_is_an_error_not_a_white_square() -> None:
    with pytest.raises(ValueError, match="no product"):
        compose_main_picture(Image.new("RGBA", (800, 800), (0, 0, 0, 0)))
