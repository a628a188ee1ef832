"""Scoring order and the main-photo choice, on real photos degraded in known ways and on pure inputs."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageEnhance, ImageFilter

from chalicelib.domain.quality import Candidate, Measurements, Quality, assess, choose_main
from chalicelib.imaging import measure, reduced_decode
from tests.photos import grocery_photo


def _score(photo: Image.Image) -> Quality:
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=92)
    return assess(measure(reduced_decode(out.getvalue()), photo.width, photo.height))


@pytest.fixture(
    params=[("Oatly-Oat-Milk", "001"), ("Arla-Standard-Milk", "004"), ("Valio-Vanilla-Yoghurt", "002")]
)
def photo(request: pytest.FixtureRequest) -> Image.Image:
    return Image.open(io.BytesIO(grocery_photo(*request.param)))


def test_sharp_beats_blurred(photo: Image.Image) -> None:
    sharp, blurred = _score(photo), _score(photo.filter(ImageFilter.GaussianBlur(5)))
    assert sharp.parts["sharpness"] > blurred.parts["sharpness"]
    assert sharp.score > blurred.score
    assert "BLURRY" in {f.code for f in blurred.findings}
    assert "BLURRY" not in {f.code for f in sharp.findings}


def test_well_exposed_beats_dark(photo: Image.Image) -> None:
    good, dark = _score(photo), _score(ImageEnhance.Brightness(photo).enhance(0.25))
    assert good.parts["exposure"] > dark.parts["exposure"]
    assert good.score > dark.score
    assert "TOO_DARK" in {f.code for f in dark.findings}


def test_a_small_photo_scores_lower_on_resolution(photo: Image.Image) -> None:
    assert _score(photo).parts["resolution"] > _score(photo.resize((600, 600))).parts["resolution"]


def test_a_tiny_product_on_a_plain_table_is_said_to_be_too_small() -> None:
    table = Image.new("RGB", (1600, 1200), (235, 232, 228))
    table.paste(Image.open(io.BytesIO(grocery_photo(scale=1))).resize((120, 120)), (740, 540))
    quality = _score(table)
    assert "PRODUCT_TOO_SMALL" in {f.code for f in quality.findings}


def _m(**changes: object) -> Measurements:
    base = {
        "width": 1600,
        "height": 1200,
        "sharpness": 500.0,
        "mean_luma": 128.0,
        "clipped_dark": 0.0,
        "clipped_bright": 0.0,
        "fill": 0.5,
        "whole": True,
    }
    return Measurements(**{**base, **changes})  # type: ignore[arg-type]


def _candidate(image_id: str, position: int, whole: bool | None = True, **changes: object) -> Candidate:
    return Candidate(image_id, position, assess(_m(whole=whole, **changes)), whole)


def test_the_sellers_choice_wins_over_a_better_photo() -> None:
    photos = [_candidate("sharp", 0), _candidate("blurry", 1, sharpness=20.0)]
    assert choose_main(photos, None).image_id == "sharp"  # type: ignore[union-attr]
    chosen = choose_main(photos, "blurry")
    assert chosen is not None and chosen.image_id == "blurry" and chosen.code == "SELLER_CHOICE"


def test_a_removed_or_rejected_seller_choice_falls_back_to_the_best() -> None:
    chosen = choose_main([_candidate("a", 0), _candidate("b", 1, sharpness=30.0)], "gone")
    assert chosen is not None and chosen.image_id == "a"


def test_within_a_tie_the_whole_product_beats_a_close_up() -> None:
    close_up = _candidate("close-up", 0, whole=None, fill=None, sharpness=900.0)
    whole = _candidate("whole", 1, whole=True, fill=0.6, sharpness=160.0)
    assert 0 < close_up.quality.score - whole.quality.score <= 0.05  # the close-up scores a little higher
    chosen = choose_main([close_up, whole], None)
    assert chosen is not None and chosen.image_id == "whole" and chosen.code == "WHOLE_PRODUCT"


def test_a_clearly_better_photo_wins_even_if_its_framing_is_unknown() -> None:
    busy = _candidate("shelf", 0, whole=None, fill=None)
    blurry = _candidate("blurry-whole", 1, whole=True, sharpness=10.0)
    chosen = choose_main([blurry, busy], None)
    assert chosen is not None and chosen.image_id == "shelf" and chosen.code == "BEST_SCORE"


def test_no_photos_no_choice_and_one_photo_is_the_only_one() -> None:
    assert choose_main([], None) is None
    only = choose_main([_candidate("a", 0, sharpness=5.0)], None)
    assert only is not None and only.code == "ONLY_PHOTO"


def test_findings_carry_the_numbers_a_translation_needs() -> None:
    from chalicelib.domain.quality import Measurements, assess

    small = Measurements(
        width=640,
        height=480,
        sharpness=2.0,
        mean_luma=128,
        clipped_dark=0.0,
        clipped_bright=0.0,
        fill=0.03,
        whole=True,
    )
    findings = {f.code: f.params for f in assess(small).findings}
    assert findings["LOW_RESOLUTION"] == {"width": 640, "height": 480, "reference": 1200}
    assert findings["PRODUCT_TOO_SMALL"] == {"fill_percent": 3}
    assert "sharpness" in findings["BLURRY"]
