"""The evidence rules both listing writers score facts by (chalicelib/domain/evidence.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain.confidence import SURE_FACT
from chalicelib.domain.evidence import (
    PROMPT_CONFIRMED,
    PROMPT_GUESSED,
    PROMPT_STATED,
    READ_ON_ONE_PHOTO,
    READ_ON_PHOTOS,
    Evidence,
    how_sure,
    marks_as_brand,
    says,
)


@pytest.mark.parametrize(
    ("text", "value", "said"),
    [
        ("ARLA Ko Mellanmjölk", "Arla", True),
        ("Café Marley", "cafe marley", True),  # case and accents aside
        ("Arlanda Express", "Arla", False),  # a whole word, not a piece of one
        ("Karla", "arla", False),
        ("500ml", "500", True),  # a number ends where its digits do
        ("1500 ml", "500", False),
        ("1,5 L", "1.5", True),  # a decimal comma
        ("1.5 L", "5", False),
        ("1.5 L", "1", False),
        ("Oatly", "", False),
    ],
)
def test_a_quoted_text_holds_a_value_as_whole_words(text: str, value: str, said: bool) -> None:
    assert says(text, value) is said


@pytest.mark.parametrize(
    ("note", "value", "marked"),
    [
        ("leche de avena marca arla", "Arla", True),
        ("leche de avena Arla 1 litro", "Arla", True),
        ("leche de avena arla", "Arla", False),  # typed in lower case: a guess
        ("Arla leche de avena", "Arla", False),  # the note's first word is capitalised anyway
        ("Leche De Avena Arla", "Arla", False),  # every word capitalised marks none
        ("yogur de soja arandanos", "Soja", False),
        ("jugo God Morgon", "God Morgon", True),
    ],
)
def test_a_brand_is_marked_by_the_word_marca_or_by_its_capital(note: str, value: str, marked: bool) -> None:
    assert marks_as_brand(note, value) is marked


def test_the_sellers_word_is_confirmed_by_the_photos_stated_when_marked_else_a_guess() -> None:
    assert how_sure(Evidence(1, True, True, marked=False), 3, printed_only=True) == PROMPT_CONFIRMED
    assert how_sure(Evidence(0, False, True, marked=True), 3, printed_only=True) == PROMPT_STATED
    assert how_sure(Evidence(0, False, True, marked=False), 3, printed_only=True) == PROMPT_GUESSED
    # Photos cited without the value in their printed text confirm nothing.
    assert how_sure(Evidence(2, False, True, marked=False), 3, printed_only=True) == PROMPT_GUESSED


def test_what_the_photos_alone_print_must_be_legible_and_is_never_sure() -> None:
    assert how_sure(Evidence(1, True, False), 3, printed_only=True) is None  # one photo of three
    assert how_sure(Evidence(2, True, False), 3, printed_only=True) == READ_ON_PHOTOS
    assert how_sure(Evidence(1, True, False), 1, printed_only=True) == READ_ON_ONE_PHOTO  # the only one
    assert how_sure(Evidence(2, False, False), 3, printed_only=True) is None  # not printed as quoted
    assert READ_ON_PHOTOS < SURE_FACT


def test_a_thing_seen_needs_a_photo_not_print() -> None:
    assert how_sure(Evidence(1, False, False), 3, printed_only=False) == READ_ON_ONE_PHOTO
    assert how_sure(Evidence(0, False, False), 3, printed_only=False) is None
