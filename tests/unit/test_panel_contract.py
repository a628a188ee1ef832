"""The panel's copies of the API document, the upload limits and the listing rules are the code's."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from chalicelib.domain import listing_rules as listing
from infra.local.environment import ROOT
from infra.local.openapi import js_pattern, rendered

FOLDER = ROOT / "web" / "src" / "lib" / "api"
# Texts with known answers; web/src/lib/listing/rules.test.ts runs the generated JS patterns on them.
SAMPLES = json.loads((ROOT / "web" / "src" / "lib" / "listing" / "pattern-samples.json").read_text())
PATTERNS = {name: getattr(listing, name.upper()) for name in SAMPLES if not name.startswith("_")}


@cache
def current() -> dict[str, str]:
    return rendered()


@pytest.mark.parametrize("name", ["openapi.json", "limits.json", "listing_rules.json"])
def test_the_panel_has_the_current_copy(name: str) -> None:
    committed = (FOLDER / name).read_text()
    assert committed == current()[name], (
        f"web/src/lib/api/{name} is stale: run `cd web && npm run api` and commit the result"
    )


def test_every_pattern_the_panel_reads_has_samples() -> None:
    assert set(PATTERNS) == set(json.loads(current()["listing_rules.json"])["patterns"])


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_the_samples_answers_are_the_apis(name: str) -> None:
    pattern = PATTERNS[name]
    assert [text for text in SAMPLES[name]["match"] if not pattern.search(text)] == []
    assert [text for text in SAMPLES[name]["miss"] if pattern.search(text)] == []


def test_the_description_cap_is_the_one_tidy_description_cuts_at() -> None:
    cap = json.loads(current()["listing_rules.json"])["description_max_chars"]
    assert len(listing.tidy_description("a" * (cap + 10))) == cap


@pytest.mark.parametrize(
    "source",
    [r"a.b", r"^a", r"a$", r"(?i)a", r"(?P<x>a)", r"\Aa", r"[]a]", r"\W", r"[\S]"],
)
def test_a_pattern_without_a_plain_js_counterpart_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="JS"):
        js_pattern(re.compile(source))


def test_case_folding_that_js_does_differently_is_refused() -> None:
    for source in (r"[a-z]", "é"):
        with pytest.raises(ValueError, match="folds differently"):
            js_pattern(re.compile(source, re.I))
    assert js_pattern(re.compile("si", re.I))["source"] == r"s[i\u0130\u0131]"
