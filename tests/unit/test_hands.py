"""The hand check on synthetic cut-outs, and what the main-photo choice does with it (pure)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw

from chalicelib.domain.hands import HAND_SHARE, shows_hand
from chalicelib.domain.quality import (
    Candidate,
    MainChoice,
    Quality,
    hand_free_tries,
    with_hand,
    without_hand,
)
from chalicelib.images import main_picture
from chalicelib.imaging import hand_share
from chalicelib.providers.background import Cutout

SKIN = (205, 150, 120)  # a hand under warm shop light: Cb 103, Cr 157, hue 20 degrees, saturation 0.41
ORANGE = (235, 120, 25)  # an orange-juice carton: hue 27 degrees like skin; Cb 61, saturation 0.89 are not
BREAD = (190, 125, 80)  # a crust: skin in every channel
CARTON = (40, 110, 60)


def _cutout(*shapes: tuple[list[tuple[int, int]], tuple[int, int, int]]) -> Image.Image:
    """A 1000x1000 cut-out: each polygon opaque in its colour, the rest transparent."""
    cutout = Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))
    draw = ImageDraw.Draw(cutout)
    for points, colour in shapes:
        draw.polygon(points, fill=(*colour, 255))
    return cutout


PRODUCT = ([(350, 200), (650, 200), (650, 800), (350, 800)], CARTON)
ARM = ([(0, 700), (0, 1000), (250, 1000), (450, 650), (380, 560)], SKIN)  # enters from the lower left


def test_a_product_held_by_a_skin_coloured_arm_from_the_edge_shows_a_hand() -> None:
    share = hand_share(_cutout(PRODUCT, ARM))
    assert 0.2 < share < 0.6  # the arm's part of the cut-out
    assert shows_hand(share)


def test_the_product_alone_shows_no_hand() -> None:
    assert hand_share(_cutout(PRODUCT)) == 0
    assert not shows_hand(hand_share(_cutout(PRODUCT)))


def test_an_orange_carton_shows_no_hand_even_cut_by_the_frame() -> None:
    carton = ([(300, 0), (700, 0), (700, 1000), (300, 1000)], ORANGE)
    assert not shows_hand(hand_share(_cutout(carton)))


def test_fingers_without_their_arm_are_not_counted() -> None:
    # The limit on the other side: the remover kept the fingers on the carton, not the arm.
    fingers = ([(330, 450), (480, 450), (480, 560), (330, 560)], SKIN)
    assert hand_share(_cutout(PRODUCT, fingers)) == 0


def test_a_skin_coloured_product_is_a_hand_only_where_it_touches_the_edge() -> None:
    # The known false positive: bread, wood or cardboard cut by the frame reads as an arm.
    loaf = [(250, 300), (750, 300), (750, 700), (250, 700)]
    assert not shows_hand(hand_share(_cutout((loaf, BREAD))))
    assert shows_hand(hand_share(_cutout(([(0, 300), (750, 300), (750, 700), (0, 700)], BREAD))))


def test_the_share_is_of_the_product_not_of_the_photo() -> None:
    small_product = ([(450, 450), (550, 450), (550, 550), (450, 550)], CARTON)
    wrist = ([(0, 480), (0, 520), (450, 520), (450, 480)], SKIN)
    assert hand_share(_cutout(small_product, wrist)) > 0.5 > HAND_SHARE


def _candidate(image_id: str, score: float, position: int, whole: bool | None = None) -> Candidate:
    return Candidate(image_id, position, Quality(score, {}), whole)


def test_photos_tied_with_the_chosen_one_are_tried_best_first_whole_shots_first() -> None:
    candidates = [
        _candidate("main", 0.90, 0),
        _candidate("close", 0.88, 1),
        _candidate("whole", 0.86, 2, whole=True),
        _candidate("worse", 0.80, 3),
        _candidate("also-close", 0.87, 4),
    ]
    tries = hand_free_tries(candidates, MainChoice("main", "BEST_SCORE", ""))
    assert tries == ["whole", "close"]  # at most two more remover calls; "worse" is no tie


def test_the_sellers_choice_is_never_replaced_nor_relabelled() -> None:
    candidates = [_candidate("main", 0.90, 0), _candidate("other", 0.90, 1)]
    chosen = MainChoice("main", "SELLER_CHOICE", "you chose this photo")
    assert hand_free_tries(candidates, chosen) == []
    assert with_hand(chosen) == chosen
    assert with_hand(MainChoice("main", "BEST_SCORE", "")).code == "MAIN_PHOTO_HAND"
    assert without_hand("other").code == "NO_HAND"


class FakeRemover:
    """Cuts each photo (a solid colour names it) into a prepared cut-out; counts its calls."""

    name = "fake"

    def __init__(self, cutouts: dict[tuple[int, int, int], Image.Image]) -> None:
        self.cutouts = cutouts
        self.calls = 0

    def cutout(self, photo: Image.Image) -> Cutout:
        self.calls += 1
        colour: Any = photo.getpixel((0, 0))
        return Cutout(self.cutouts[tuple(colour)], "fake", "fake", 1.0, 0.0)


def _photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1000, 1000), colour).save(out, format="PNG")
    return out.getvalue()


HELD, ALONE = (255, 0, 0), (0, 0, 255)


def test_a_hand_photo_gives_way_to_a_tied_one_without_a_hand() -> None:
    remover = FakeRemover({HELD: _cutout(PRODUCT, ARM), ALONE: _cutout(PRODUCT)})
    photos = {"held": _photo(HELD), "alone": _photo(ALONE)}
    choice, _, about = main_picture(MainChoice("held", "BEST_SCORE", ""), ["alone"], photos, remover)
    assert choice.image_id == "alone" and choice.code == "NO_HAND"
    assert about["hand_share"] == 0 and remover.calls == 2


def test_when_every_photo_shows_a_hand_the_best_stays_and_the_seller_is_told() -> None:
    remover = FakeRemover({HELD: _cutout(PRODUCT, ARM), ALONE: _cutout(PRODUCT, ARM)})
    photos = {"held": _photo(HELD), "alone": _photo(ALONE)}
    choice, _, about = main_picture(MainChoice("held", "BEST_SCORE", ""), ["alone"], photos, remover)
    assert choice.image_id == "held" and choice.code == "MAIN_PHOTO_HAND"
    assert shows_hand(about["hand_share"])


def test_a_photo_without_a_hand_costs_no_other_cut_out() -> None:
    remover = FakeRemover({ALONE: _cutout(PRODUCT)})
    choice, _, _ = main_picture(
        MainChoice("alone", "BEST_SCORE", ""), ["held"], {"alone": _photo(ALONE)}, remover
    )
    assert choice.code == "BEST_SCORE" and remover.calls == 1
