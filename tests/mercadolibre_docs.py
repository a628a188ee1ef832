"""MercadoLibre's documented JSON examples (tests/data/mercadolibre/docs_examples.jsonl, copied
verbatim from the 2026 docs scrape), by the doc page's name and the example's block number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCS = Path(__file__).parent / "data" / "mercadolibre" / "docs_examples.jsonl"


def _examples() -> dict[tuple[str, int], Any]:
    found = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        found[(entry["doc"].split("/")[-1].removesuffix(".md"), entry["block"])] = json.loads(entry["code"])
    return found


EXAMPLES = _examples()


def example(page: str, block: int) -> Any:
    return EXAMPLES[(page, block)]
