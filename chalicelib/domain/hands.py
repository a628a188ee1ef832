"""When a main picture shows the hand that held the product, decided from one number, without Pillow.

MercadoLibre wants the product alone. Sellers photograph what they sell held up in a hand, and a
background remover keeps the hand (it is part of the foreground). `chalicelib.imaging.hand_share`
measures, on the remover's cut-out, the share of the product's area that is skin-coloured and
reaches the photo's edge: an arm enters the frame from a side, a printed orange does not.

Skin colour: Chai & Ngan's YCbCr box (IEEE Trans. CSVT 9(4), 1999: Cb 77-127, Cr 133-173) and
Sobottka & Pitas' HSV bounds (1996: hue 0-50 degrees, saturation 0.23-0.68), both narrowed on the
Grocery Store Dataset's tuning photos: under warm shop light, white and cream cartons reach Cr 135-148
and saturation 0.2-0.5 while hands sit at Cr 143-163 and saturation 0.45-0.7.

Known false positives: anything skin-coloured the remover keeps and that touches the edge, such as
bread crusts, wood, wicker baskets (the garlic basket of the tuning set), cardboard, a cream carton
cut by the frame. Hands in shadow or under cold light fall outside the box and are missed, and so are
fingers the remover kept without their arm.
"""

from __future__ import annotations

# Pillow's 8-bit channels: YCbCr as JPEG defines it, HSV hue and saturation scaled to 0-255.
SKIN_CB = (77, 127)
SKIN_CR = (150, 173)
SKIN_HUE = (0, 25)  # 0-35 degrees
SKIN_SATURATION = (90, 200)  # 0.35-0.78
# A hand holding a carton covers 3-90 % of the cut-out on the tuning photos; skin-coloured print that
# touches the edge, under 1.5 % (the wicker basket, 15 %, is the exception above).
HAND_SHARE = 0.02


def shows_hand(share: float | None) -> bool:
    """`share`: skin reaching the photo's edge, as a share of the cut-out; None when not measured."""
    return share is not None and share >= HAND_SHARE
