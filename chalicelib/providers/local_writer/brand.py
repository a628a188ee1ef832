"""The brand, chosen from the packaging text's own structure: logo-sized words, words seen on several
photos, agreement with the prompt, standing alone, not a generic packaging word."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from chalicelib.domain.evidence import PROMPT_CONFIRMED, PROMPT_GUESSED, legible, read_on_photos, sellers_word
from chalicelib.domain.search import fold
from chalicelib.providers.listing import Fact
from chalicelib.providers.local_writer.ocr import TextBox
from chalicelib.providers.local_writer.wording import title_word
from chalicelib.providers.local_writer.words import FUNCTION_WORDS, GENERIC_WORDS

MIN_BRAND_SCORE = 0.7  # a brand is read from confidently recognised words only
# A logo set in stacked syllables ("GOD" / "MOR" / "GON") reads as a run of short lines of one size:
# which pieces make one word is not printed, so no piece is the brand.
STACK_PIECES = 3  # lines in a row, at least
PIECE_LETTERS = (3, 4)
PIECE_HEIGHTS = 1.15  # the tallest piece at most this times the shortest


@dataclass(frozen=True)
class BrandCandidate:
    name: str  # as printed, calmed: "Bravo" for "BRAVO", "Alpro" for "alpro"
    score: float
    confidence: float
    source: str  # "photo:<image_id>" of its largest appearance
    in_prompt: bool  # the seller typed it too
    photos: int = 1  # how many photos print it
    pieces: str = ""  # the stacked logo it is one piece of, as printed ("GOD MOR GON"), if any


@dataclass
class _Seen:
    forms: list[str]
    photos: set[str]
    sizes: dict[str, float]  # largest appearance per photo, relative to that photo's largest text
    alone: bool = False  # printed as a line of its own, as logos are
    recognised: float = 0.0  # the recogniser's best confidence in it
    pieces: str = ""  # the stacked logo it is one piece of


def is_generic(word: str) -> bool:
    """A packaging word that names no brand: in the list, a misread of one, or a compound of one."""
    folded = fold(word)
    if folded in GENERIC_WORDS:
        return True
    if any(len(g) >= 4 and folded.endswith(g) for g in GENERIC_WORDS):
        return True  # Swedish compounds: "sommarmjölk", "fruktdryck"
    # OCR misreads, a letter or two off: "Onginalet", "ORIGNAL" (but "mango" is not "morango")
    return len(folded) >= 5 and any(
        len(g) >= 5 and abs(len(g) - len(folded)) <= 1 and _similar(folded, g) >= 0.8 for g in GENERIC_WORDS
    )


def brand_candidates(
    boxes: list[TextBox], brand_slot: Iterable[str] = (), product_words: Iterable[str] = ()
) -> list[BrandCandidate]:
    """Brand candidates on the packaging, best first, each with a 0-1 score and a confidence.

    The score weighs the text's own structure: size relative to the photo's largest text (logos are
    big), the share of photos it appears on, repetition, standing alone on its line, a calm case
    (brands are rarely all capitals, descriptions often are) and the recogniser's confidence.
    A word the seller typed in the brand slot is strong evidence; a word of the product phrase
    ("vainilla" for "Vanilj") names what the product is, not who makes it.
    """
    slot = [fold(w) for w in brand_slot]
    described = [fold(w) for w in product_words if fold(w) not in FUNCTION_WORDS]

    def names(box: TextBox) -> list[str]:
        """The words of a line that could name a maker: not a number, not a packaging word."""
        words = [w.strip(".,:;!?¡¿'\"()*®™") for w in box.text.split()]
        return [
            word
            for word in words
            if re.fullmatch(r"[a-z]{3,}", fold(word))
            and not is_generic(word)
            and not any(_similar(fold(word), d) >= 0.75 for d in described)
        ]

    # Sizes are relative to the photo's largest line that could name a maker: the flavour printed
    # larger than the logo ("Vanilj" over "Valio") says nothing about the logo.
    tallest: dict[str, float] = {}
    for box in boxes:
        if box.score >= MIN_BRAND_SCORE and names(box):
            tallest[box.image_id] = max(tallest.get(box.image_id, 0.0), box.height)
    photos_with_text = max(1, len({box.image_id for box in boxes}))
    stacked = _stacked(boxes)
    seen: dict[str, _Seen] = {}
    for box in boxes:
        if box.score < MIN_BRAND_SCORE:
            continue
        words = box.text.split()
        for word in names(box):
            folded = fold(word)
            entry = seen.setdefault(folded, _Seen([], set(), {}))
            entry.forms.append(word)
            entry.photos.add(box.image_id)
            size = box.height / tallest[box.image_id]
            entry.sizes[box.image_id] = max(entry.sizes.get(box.image_id, 0.0), size)
            entry.alone = entry.alone or len(words) == 1
            entry.recognised = max(entry.recognised, box.score)
            entry.pieces = entry.pieces or stacked.get(folded, "")
    scored = []
    for key, entry in _merge_misreads(seen).items():
        form = max(entry.forms, key=lambda f: (entry.forms.count(f), not f.isupper(), len(f)))
        score = (
            0.4 * max(entry.sizes.values())
            + 0.25 * len(entry.photos) / photos_with_text
            + 0.1 * min(len(entry.forms), 3) / 3
            + 0.1 * entry.alone
            + 0.05 * (not form.isupper())
            + 0.1 * entry.recognised
        )
        in_prompt = any(_similar(key, s) >= 0.8 for s in slot)
        largest = max(entry.sizes, key=lambda image_id: entry.sizes[image_id])
        scored.append(
            (in_prompt, round(score, 3), _calm(form), f"photo:{largest}", len(entry.photos), entry.pieces)
        )
    scored.sort(reverse=True)
    candidates = []
    for rank, (in_prompt, score, name, source, photos, pieces) in enumerate(scored):
        # OCR alone is never sure: capped by how often it was seen, lowered when a rival scores close.
        rival = max((s for i, (_, s, *_) in enumerate(scored) if i != rank), default=0.0)
        margin = max(0.0, score - rival) / score if score else 0.0
        ceiling = read_on_photos(photos)
        confidence = PROMPT_CONFIRMED if in_prompt else round(ceiling * score * (0.6 + 0.4 * margin), 2)
        candidates.append(BrandCandidate(name, score, confidence, source, in_prompt, photos, pieces))
    return candidates


def _stacked(boxes: list[TextBox]) -> dict[str, str]:
    """Each word printed as a piece of a stacked logo, with the pieces of its stack as printed."""
    runs: list[list[TextBox]] = [[]]
    for box in boxes:
        run = runs[-1]
        if not _piece(box):
            runs.append([])
        elif not run or (box.image_id == run[0].image_id and _one_stack(run, box)):
            run.append(box)
        else:
            runs.append([box])
    return {
        fold(box.text.strip()): " ".join(piece.text.strip() for piece in run)
        for run in runs
        if len(run) >= STACK_PIECES
        for box in run
    }


def _piece(box: TextBox) -> bool:
    text = box.text.strip()
    return text.isalpha() and PIECE_LETTERS[0] <= len(text) <= PIECE_LETTERS[1]


def _one_stack(run: list[TextBox], box: TextBox) -> bool:
    """Whether the line continues the run as another piece: of the same size, and another word (the
    same word again is the same logo on packs side by side)."""
    heights = [piece.height for piece in (*run, box)]
    words = {fold(piece.text.strip()) for piece in run}
    return max(heights) <= PIECE_HEIGHTS * min(heights) and fold(box.text.strip()) not in words


def _merge_misreads(seen: dict[str, _Seen]) -> dict[str, _Seen]:
    """One entry per word however the OCR cut or misread it: "alio" and "Valio", "BRAVOBRA" and "BRAVO"."""
    merged: dict[str, _Seen] = {}
    for key in sorted(seen, key=lambda k: (len(seen[k].forms), len(k)), reverse=True):
        entry = seen[key]
        home = next((k for k in merged if _same_word(k, key)), None)
        if home is None:
            merged[key] = _Seen(
                list(entry.forms),
                set(entry.photos),
                dict(entry.sizes),
                entry.alone,
                entry.recognised,
                entry.pieces,
            )
            continue
        target = merged[home]
        target.photos |= entry.photos
        for image_id, size in entry.sizes.items():
            target.sizes[image_id] = max(target.sizes.get(image_id, 0.0), size)
        target.alone = target.alone or entry.alone
        target.recognised = max(target.recognised, entry.recognised)
        target.pieces = target.pieces or entry.pieces
        target.forms += [merged[home].forms[0]] * len(entry.forms)  # counts as the stronger spelling
    return merged


def _same_word(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if len(short) >= 4 and short in long and len(short) / len(long) >= 0.5:
        return True  # cut or run together: "alio" in "valio", "bravo" in "bravobravo"
    if len(short) >= 3 and long.startswith(short) and len(short) / len(long) >= 0.5:
        return True  # cut at the photo's edge: "alp" for "alpro"
    return _similar(a, b) >= 0.8


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _calm(name: str) -> str:
    """A brand as sellers write it: "BRAVO" and "alpro" capitalised, "ProViva" kept, word by word."""
    return " ".join(w.capitalize() if w.isupper() or w.islower() else w for w in name.split())


def brand_and_model(
    brand_slot: list[str],
    candidates: list[BrandCandidate],
    *,
    marked: bool = True,
    photos_with_text: int = 1,
) -> tuple[Fact | None, Fact | None]:
    """The brand the seller typed (confirmed when the packaging shows it too), else the packaging's.

    The seller's word is sure when the packaging prints it or the seller marked it as a name ("marca
    arla", "Arla"); otherwise it is their word, not yet proven (a guess the listing says). The
    packaging's brand must agree across photos (printed on two, where two have text): one photo's
    word is as often a neighbour on the shelf or noise as it is the logo."""
    confirmed = next((c for c in candidates if c.in_prompt), None)
    if confirmed is not None:
        at = next((i for i, w in enumerate(brand_slot) if _similar(fold(w), fold(confirmed.name)) >= 0.8), 0)
        brand = Fact(_calm(brand_slot[at]), "prompt", confidence=sellers_word(printed=True, marked=marked))
        model_words = brand_slot[at + 1 :]
    elif brand_slot:
        brand = Fact(_calm(brand_slot[0]), "prompt", confidence=sellers_word(printed=False, marked=marked))
        model_words = brand_slot[1:]
    elif candidates and not candidates[0].pieces and legible(candidates[0].photos, photos_with_text):
        best = candidates[0]
        brand = Fact(best.name, best.source, confidence=best.confidence)
        model_words = []
    else:
        return None, None
    model = (
        Fact(" ".join(map(title_word, model_words)), "prompt", confidence=PROMPT_GUESSED)
        if model_words
        else None
    )
    return brand, model
