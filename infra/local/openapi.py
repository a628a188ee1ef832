"""Write what the panel shares with the API: the OpenAPI document, the upload limits, the listing rules.

    python -m infra.local.openapi web/src/lib/api

The panel's TypeScript types are generated from openapi.json (`npm run api` in web/), its
client-side photo checks read limits.json and its listing hints (title, description, publish form,
the site's currency) read listing_rules.json, so both sides answer with the same numbers, words and
patterns. A test fails when the committed files drift from the code.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

from infra.local.environment import apply, stage_environment


def document() -> dict[str, Any]:
    apply(stage_environment())  # the app reads its table names at import
    from functions.api import route

    return route.openapi()


def limits() -> dict[str, Any]:
    from chalicelib.domain import limits

    return {
        "prompt_max_chars": limits.PROMPT_MAX_CHARS,
        "max_images": limits.MAX_IMAGES,
        "max_image_bytes": limits.MAX_IMAGE_BYTES,
        "max_total_bytes": limits.MAX_TOTAL_BYTES,
        "min_width": limits.MIN_WIDTH,
        "min_height": limits.MIN_HEIGHT,
        "max_pixels": limits.MAX_PIXELS,
        "content_types": sorted(limits.CONTENT_TYPES),
    }


# -- Python patterns as JavaScript ones ---------------------------------------------------------------
#
# The sources are written for Python's `re` on str, and mean the same in a JS RegExp with the `u` flag
# (code points, not UTF-16 units, as Python counts) once these differences are translated:
#   \d   Python: any Unicode decimal digit; JS: 0-9 only                        -> \p{Nd}
#   \w   Python: Unicode letters, digits, numbers and _; JS: [A-Za-z0-9_]       -> [\p{L}\p{N}_]
#   \s   Python: str.isspace(), with \x1c-\x1f and \x85, without \ufeff; JS the reverse
#                                                                               -> Python's, spelled out
#   \b   Python: between Unicode \w and \W; JS: between ASCII ones            -> lookarounds on \w above
#   re.I Python matches i to U+0130 and U+0131 (dotted I, dotless i) too; JS's /iu does not
#                                                                               -> i becomes [i\u0130\u0131]
#        (the other ASCII letters fold alike, long s and the Kelvin sign included)
# \p{Nd}, \p{L} and \p{N} follow the browser's Unicode, which may be newer than Python's: characters
# unassigned in Python's Unicode then count as letters or digits in the panel only.
# What has no plain counterpart (".", "^", "$", inline flags, named groups, other escapes, letters in a
# case-insensitive class, other letters than ASCII under re.I) is refused, so a new pattern that needs
# more translation fails here instead of meaning something else in the panel.
_WORD = r"\p{L}\p{N}_"
_BOUNDARY = f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
_I_ANY_CASE = r"[i\u0130\u0131]"
_SYNTAX = set("\\.^$*+?()[]{}|/")
_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\u{{{code:x}}}"


@cache
def _spaces() -> str:
    """Python's \\s as the inside of a character class, in ranges."""
    codes = [ord(c) for c in re.findall(r"\s", "".join(map(chr, range(sys.maxunicode + 1))))]
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in runs)


def js_pattern(pattern: re.Pattern[str]) -> dict[str, str]:
    """A compiled Python pattern as a JS RegExp's source and flags with the same meaning."""

    def refuse(why: str) -> ValueError:
        return ValueError(f"{pattern.pattern!r}: {why}")

    if pattern.flags & ~(re.IGNORECASE | re.UNICODE):
        raise refuse("only re.I has a JS counterpart here")
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    classes = {"w": _WORD, "s": _spaces()}
    source, out, i, in_class = pattern.pattern, [], 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i + 1]
            if escaped == "d":
                out.append(r"\p{Nd}")
            elif escaped in classes:
                out.append(classes[escaped] if in_class else f"[{classes[escaped]}]")
            elif escaped == "S" and not in_class:
                out.append(f"[^{classes['s']}]")
            elif escaped == "b" and not in_class:
                out.append(_BOUNDARY)
            elif escaped in _SYNTAX or (escaped == "-" and in_class):
                out.append(char + escaped)
            else:
                raise refuse(f"no JS translation for \\{escaped} here")
            i += 2
            continue
        if ignore_case and char.isalpha() and (in_class or not char.isascii()):
            raise refuse(f"{char} folds differently in JS")
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source.startswith(("[]", "[^]"), i):
                raise refuse("a leading ] is literal in Python, not in JS")
        elif char in ".^$":
            raise refuse(f"{char} means something else in JS")
        elif source.startswith("(?", i) and not source.startswith(_GROUPS, i):
            raise refuse("only (?: and lookarounds are the same in JS")
        out.append(_I_ANY_CASE if ignore_case and char in "iI" and not in_class else char)
        i += 1
    return {"python": pattern.pattern, "source": "".join(out), "flags": "iu" if ignore_case else "u"}


def _accepts(schema: dict[str, Any], field: str) -> dict[str, Any]:
    """A field's JSON-schema constraints, whether or not it may also be null."""
    declared: dict[str, Any] = schema["properties"][field]
    return next(s for s in declared.get("anyOf", [declared]) if s.get("type") != "null")


def listing_rules(api: dict[str, Any]) -> dict[str, Any]:
    """What the panel checks while the seller types, as the API checks it (`api`: the OpenAPI document)."""
    from chalicelib.domain import listing_rules as rules
    from chalicelib.domain.sites import SITES

    schemas = api["components"]["schemas"]
    publish = schemas["PublishRequest"]
    return {
        "banned_title_words": sorted(rules.BANNED_TITLE_WORDS),
        "default_title_limit": rules.DEFAULT_TITLE_LIMIT,
        "description_max_chars": _accepts(schemas["ListingEdit"], "description")["maxLength"],
        "patterns": {
            name: js_pattern(pattern)
            for name, pattern in (
                ("price", rules.PRICE),
                ("url", rules.URL),
                ("email", rules.EMAIL),
                ("phone", rules.PHONE),
                ("tag", rules.TAG),
            )
        },
        "publish": {
            "max_price": _accepts(publish, "price")["maximum"],
            "max_quantity": _accepts(publish, "quantity")["maximum"],
            "listing_types": _accepts(publish, "listing_type")["enum"],
            "conditions": _accepts(publish, "condition")["enum"],
        },
        # Every site a seller can choose (any other is refused): its currency and its listings' language.
        "sites": {site.id: {"currency": site.currency, "language": site.language} for site in SITES.values()},
    }


def rendered() -> dict[str, str]:
    """File name -> exact text, so writing and checking use one rendering."""
    api = document()
    return {
        name: json.dumps(data, indent=2, sort_keys=True) + "\n"
        for name, data in (
            ("openapi.json", api),
            ("limits.json", limits()),
            ("listing_rules.json", listing_rules(api)),
        )
    }


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    for name, text in rendered().items():
        (folder / name).write_text(text)
