"""Search text folded the way sellers type: no case, no accents ("Cafetera" finds "cafetéra")."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    # Compatibility forms first (a mathematical bold A is an "A"), then case: the other order is not stable.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def search_text(*parts: str | None) -> str:
    return " | ".join(fold(part) for part in parts if part)
