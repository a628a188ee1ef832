"""How sure a fact is, by its evidence: one set of rules for both listing writers.

A fact comes from the seller's note, from the photos, or from both. The seller's word is best when the
photos print it too. What the photos alone show must be printed on two of them where several were read:
one photo's word is as often a neighbour on the shelf or noise as it is the logo. A reader's own
certainty (the OCR's score, Gemini's number) may lower a value, never raise it past what its evidence
allows; what the photos alone show stays below SURE_FACT, so it never makes a listing green.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.search import fold

PROMPT_CONFIRMED = 0.97  # the seller's word, printed on the photos too
PROMPT_STATED = 0.9  # the seller's word, marked as a name ("marca arla", "Arla") or a stated measure
PROMPT_GUESSED = 0.8  # a word the prompt's shape suggests (the brand slot), not confirmed by the photos
READ_ON_PHOTOS = 0.75  # read from the photos alone, on two or more of them
READ_ON_ONE_PHOTO = 0.6

BRAND_MARKERS = frozenset(("marca", "brand"))


def legible(photos: int, photos_with_text: int) -> bool:
    """Printed on two photos, or on the only one with text: what the photos alone must show before a
    brand or a measure is taken from them."""
    return photos >= min(2, photos_with_text)


def read_on_photos(photos: int) -> float:
    """The most a value read from the photos alone can be: more for two photos that agree."""
    return READ_ON_PHOTOS if photos > 1 else READ_ON_ONE_PHOTO


def sellers_word(*, printed: bool, marked: bool) -> float:
    """The seller's word: confirmed when the photos print it, stated when marked, else a guess."""
    if printed:
        return PROMPT_CONFIRMED
    return PROMPT_STATED if marked else PROMPT_GUESSED


def says(text: str, value: str) -> bool:
    """`value` is in `text` as whole words, case, accents and decimal commas aside: "500" is in "500ml"
    and "Arla" in "ARLA Ko", but "Arla" is not in "Arlanda". How a reader's claim that a package or a
    note says something is checked against what it quotes."""
    wanted = _plain(value)
    if not wanted:
        return False
    left = r"(?<!\w)(?<!\d\.)" if wanted[0].isalnum() else ""  # not the "5" of "1.5"
    return re.search(left + re.escape(wanted) + _end(wanted), _plain(text)) is not None


def _end(wanted: str) -> str:
    """A number ends where its digits do ("500" of "500ml"); a word where its letters do."""
    if wanted[-1].isdigit():
        return r"(?!\d)(?!\.\d)"
    return r"(?![^\W\d_])" if wanted[-1].isalnum() else ""


def _plain(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d)", ".", fold(text))


def marks_as_brand(note: str, value: str) -> bool:
    """The note can be naming `value` as the brand: "marca arla", or "Arla" written with its capital
    after the note's first word, in a note whose words are not all capitalised."""
    if any(says(note, f"{marker} {value}") for marker in BRAND_MARKERS):
        return True
    words = [w.strip(".,;:()!¡?¿\"'") for w in note.split()]
    wanted = fold(value).split()
    if not wanted or all(w[:1].isupper() for w in words if w[:1].isalpha()):
        return False
    return any(
        [fold(w) for w in words[at : at + len(wanted)]] == wanted and words[at][:1].isupper()
        for at in range(1, len(words))
    )


@dataclass(frozen=True)
class Evidence:
    """What backs a value: how many of the photos read show it, whether the text as printed on them
    holds it, whether the seller's note says it and marks it."""

    photos: int
    printed: bool
    in_note: bool
    marked: bool = True  # a name the note marks as one; a measure or a description the note states


def how_sure(evidence: Evidence, photos_read: int, *, printed_only: bool) -> float | None:
    """How sure a value is by its evidence, or None when the evidence is not enough to use it.
    `printed_only`: a name or a measure, which the photos must print (legibly) to give it; else a thing
    seen, such as what the product is or its colour."""
    printed = evidence.printed and evidence.photos > 0
    if evidence.in_note:
        return sellers_word(printed=printed, marked=evidence.marked)
    if printed_only and not (printed and legible(evidence.photos, photos_read)):
        return None
    return read_on_photos(evidence.photos) if evidence.photos > 0 else None
