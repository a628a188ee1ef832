"""Every code the API and the pipeline give people has words in the panel's three languages.

The API speaks in stable machine codes with their numbers in params/details; the panel turns them
into the seller's language. A code added in Python without its messages fails here, not in front
of a seller. Codes are found where they are written: literal codes passed to the calls that make
errors, timeline events, failures and reasons.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator

import pytest

from infra.local.environment import ROOT

CODE = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
LANGUAGES = ("es", "pt", "en")
CATALOGUES = {lang: json.loads((ROOT / f"web/src/lib/i18n/{lang}.json").read_text()) for lang in LANGUAGES}

# call name -> (catalogue prefix, position of the code among the positional arguments)
CALLS = {
    "ApiError": ("errors", 1),
    # The domain's errors (chalicelib/domain/errors.py), which the API answers with their code.
    **dict.fromkeys(
        ("NotFound", "Conflict", "Invalid", "Refused", "Unauthorized", "RateLimited", "Upstream", "Busy"),
        ("errors", 0),
    ),
    "Rejection": ("errors", 0),
    "LimitProblem": ("errors", 1),
    "record": ("events", 2),  # timeline.record(product_id, stage, CODE, ...)
    "fail": ("events", 2),  # pipeline.fail(product, stage, CODE, ...)
    "_regenerate": ("events", 1),
    "Finding": ("reasons", 0),
    "MainChoice": ("reasons", 1),
    "ListingWriterFailed": ("events", 0),  # the writer's failures become the product's timeline
    "BackgroundRemovalFailed": ("events", 0),
}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def codes() -> Iterator[tuple[str, str, str]]:
    """(catalogue key, file, line) for every literal code handed to a people-facing call."""
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            found: list[tuple[str, str | None]] = []
            if name in CALLS:
                prefix, position = CALLS[name]
                argument = node.args[position] if len(node.args) > position else None
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                found.append((prefix, _literal(argument) or _literal(keyword)))
            elif name == "Reason":  # the confidence reasons: Reason(part, CODE, ...); the API's: code=
                argument = node.args[1] if len(node.args) > 1 else None
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                found.append(("reasons", _literal(argument) or _literal(keyword)))
            for prefix, code in found:
                if code:
                    yield f"{prefix}.{code}", str(path.relative_to(ROOT)), str(node.lineno)


FOUND = sorted(set(codes()))


def test_the_scan_finds_the_codes_it_is_meant_to() -> None:
    keys = {key for key, _, _ in FOUND}
    expected = {"errors.IMAGE_TOO_SMALL", "events.REMOVING_BACKGROUND", "reasons.REQUIRED_ATTRIBUTES_MISSING"}
    assert expected <= keys
    assert len(keys) > 60


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_code_has_words_in_every_language(lang: str) -> None:
    missing = [f"{key} ({where}:{line})" for key, where, line in FOUND if key not in CATALOGUES[lang]]
    assert not missing, f"add to web/src/lib/i18n/{lang}.json (scripts/messages.mjs): " + ", ".join(missing)
