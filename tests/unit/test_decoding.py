"""Decoding a photo for scoring and for the main picture: turned as the seller sees it, and never
copied when nothing needs doing (the largest PNG accepted is 480 MB decoded)."""

from __future__ import annotations

from PIL import Image

from chalicelib.imaging import _oriented, full_decode, reduced_decode
from tests.photos import encode


def test_a_photo_without_an_orientation_is_not_copied() -> None:
    photo = Image.new("RGB", (120, 80))
    assert _oriented(photo) is photo


def test_a_photo_is_decoded_turned_as_its_exif_says() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, seen upright
    data = encode((1600, 1200), exif=exif)
    assert reduced_decode(data, 400).size == (300, 400)
    assert full_decode(data, 1000).size == (750, 1000)
    assert full_decode(encode((1600, 1200)), 1000).size == (1000, 750)
