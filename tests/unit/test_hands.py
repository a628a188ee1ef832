"""The hand check on synthetic cut-outs."""

from __future__ import annotations

from PIL import Image, ImageDraw

from chalicelib.domain.hands import HAND_SHARE, shows_hand
from chalicelib.imaging import hand_share

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
