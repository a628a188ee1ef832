"""Every rule applied to a seller's or a model's text does work in proportion to the text.

A pattern that backtracks turns a 50 KB description into minutes of CPU that block the API (a run of
"1" once took 95 s in the price rule). Each rule gets constructed worst cases (runs of the characters
its patterns loop on) at 16 KB and at 64 KB; four times the text must cost about four times the work.
The work is CPU time of this process, compared as a ratio (a quadratic rule gives 16, a linear one 4),
so a slow or busy machine changes both sides alike: no wall-clock limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from chalicelib.domain.listing_rules import description_problems, tidy_description, tidy_title, title_problems
from chalicelib.providers.local_writer.prompt import parse_prompt
from chalicelib.providers.local_writer.specs import find_specs

SMALL, LARGE = 16 * 1024, 64 * 1024
# What the patterns loop on: digits with separators (prices, phones), words with dots (e-mails),
# currency signs and spaces, angle brackets (tags), link starts, percentages.
CHUNKS = [
    "1",
    "1,",
    "1.",
    "1 ",
    "1(",
    "1-",
    "+1",
    "a",
    "a.",
    "a-",
    "a@",
    "a@b.",
    "$",
    "$ ",
    "R$1",
    "<",
    "< ",
    "<a",
    "http://",
    "www.",
    "1 %",
    " ",
    "\n",
    "x",
]
RULES: dict[str, Callable[[str], object]] = {
    "title_problems": lambda text: title_problems(text, 60),
    "tidy_title": lambda text: tidy_title(text, 60),
    "description_problems": description_problems,
    "tidy_description": tidy_description,
    "find_specs (OCR text)": lambda text: find_specs(text, "photo:x", 0.6),
    "parse_prompt": lambda text: parse_prompt(text, "MLA"),
}


def _work(rule: Callable[[str], object], text: str) -> float:
    """CPU seconds for one call, the least of three (other processes only ever add to it)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        rule(text)
        best = min(best, time.process_time() - started)
    return best


def _text(chunk: str, size: int) -> str:
    return (chunk * (size // len(chunk) + 1))[:size]


@pytest.mark.parametrize("name", sorted(RULES))
def test_work_grows_with_the_text_not_with_its_square(name: str) -> None:
    rule = RULES[name]
    worst: list[tuple[float, str]] = []
    for chunk in CHUNKS:
        small, large = _work(rule, _text(chunk, SMALL)), _work(rule, _text(chunk, LARGE))
        # Below a millisecond the clock's grain decides the ratio: such a case is cheap either way.
        if large > 0.005:
            worst.append((large / max(small, 1e-4), chunk))
    ratio, chunk = max(worst, default=(0.0, ""))
    assert ratio < 8, f"{name}: {ratio:.1f}x the work for 4x the text, on runs of {chunk!r}"
