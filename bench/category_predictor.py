"""How the sandbox's category predictor answers seller queries: the tuning split its vocabulary and
constants were tuned on, and the held-out split written before tuning and never run while tuning
(tests/sandbox/category_queries*.json). `python -m bench.category_predictor` writes its section of
BENCHMARKS.md; tests/sandbox/test_predictor.py holds the held-out split to the targets with the same
`measure`.

Every figure is taken from the answer `/sites/{SITE}/domain_discovery/search?limit=3` serves: top-1 is
its first prediction, top-3 any of its (at most three) predictions, empty an answer with none.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import write_section
from infra.local.mercadolibre.catalog import load_catalog
from infra.local.mercadolibre.predictor import CategoryPredictor

QUERIES = Path(__file__).resolve().parents[1] / "tests" / "sandbox"
SPLITS = {
    "tuning": QUERIES / "category_queries.json",
    "held-out": QUERIES / "category_queries_held_out_8.json",
}
# Issue 21's targets for the held-out split.
TOP_1_TARGET = 0.90
TOP_3_TARGET = 0.98
MILLISECONDS_TARGET = 5.0


def load_split(name: str) -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads(SPLITS[name].read_text(encoding="utf-8"))["queries"]
    return queries


@dataclass
class Figures:
    queries: int = 0
    top_1: int = 0
    top_3: int = 0
    empty: int = 0
    # Answers with a single prediction or whose top two share a domain, against answers torn between
    # two domains: how many of each were right at top-1, of how many.
    agreeing: list[int] = field(default_factory=lambda: [0, 0])
    torn: list[int] = field(default_factory=lambda: [0, 0])
    misses: list[str] = field(default_factory=list)

    def share(self, count: int) -> float:
        return count / self.queries if self.queries else 0.0


def measure(predictor: CategoryPredictor, queries: list[dict[str, Any]]) -> Figures:
    figures = Figures()
    for query in queries:
        answer = predictor.domain_discovery(query["site_id"], query["query"], 3)
        acceptable = {leaf["category_id"] for leaf in query["acceptable"]}
        predicted = [prediction["category_id"] for prediction in answer]
        right = predicted[:1] != [] and predicted[0] in acceptable
        figures.queries += 1
        figures.top_1 += right
        figures.top_3 += bool(acceptable & set(predicted))
        figures.empty += not answer
        torn = len(answer) > 1 and answer[0]["domain_id"] != answer[1]["domain_id"]
        tally = figures.torn if torn else figures.agreeing
        tally[0] += right
        tally[1] += 1
        if not right:
            first = answer[0]["category_name"] if answer else "nothing"
            where = "in the top 3" if acceptable & set(predicted) else "not in the top 3"
            figures.misses.append(f'{query["site_id"]} "{query["query"]}": {first} first, the label {where}')
    return figures


def milliseconds_per_query(
    predictor: CategoryPredictor, queries: list[dict[str, Any]], repeat: int = 5
) -> float:
    """The median, over `repeat` passes, of the mean time one answer takes."""
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for query in queries:
            predictor.domain_discovery(query["site_id"], query["query"], 3)
        passes.append((time.perf_counter() - started) / len(queries) * 1000)
    return statistics.median(passes)


def main() -> None:
    catalog = load_catalog()
    started = time.perf_counter()
    predictor = CategoryPredictor(catalog)
    indexing = time.perf_counter() - started
    rows, notes = [], []
    for name in SPLITS:
        queries = load_split(name)
        figures = measure(predictor, queries)
        milliseconds = milliseconds_per_query(predictor, queries)
        top_1, top_3 = figures.share(figures.top_1), figures.share(figures.top_3)
        rows.append(
            f"| {name} | {figures.queries} | {top_1:.1%} | {top_3:.1%} | {figures.empty} "
            f"| {milliseconds:.2f} ms |"
        )
        (right, agreeing), (right_torn, torn) = figures.agreeing, figures.torn
        notes.append(
            f"- {name}: answers that agree (one prediction, or the top two in one domain) were right at "
            f"top-1 {right} times of {agreeing}; answers torn between two domains {right_torn} of {torn}."
        )
        if name == "held-out":
            notes += [f"  - missed at top-1: {miss}" for miss in figures.misses]
    sites = ", ".join(f"{len(catalog.listable(site))} of {site}" for site in ("MLA", "MLB"))
    body = (
        f"Seller queries in Spanish (MLA) and Portuguese (MLB), each labelled with every leaf a seller could "
        f"rightly list it in; the held-out split was written and frozen before the last tuning round (seven "
        f"earlier held-out splits were each run once, then joined the tuning split: their figures are in "
        f"tests/sandbox/category_queries.json). Listable leaves: "
        f"{sites}; building the index took {indexing:.1f} s. Targets for the held-out split (issue 21): "
        f"top-1 >= {TOP_1_TARGET:.0%}, top-3 >= {TOP_3_TARGET:.0%}, no empty answer, under "
        f"{MILLISECONDS_TARGET:.0f} ms a query.\n\n"
        "| split | queries | top-1 | top-3 | empty answers | per query |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\nHow sure the answer says it is (the content step lowers its category confidence when the top "
        "two are different domains):\n\n" + "\n".join(notes)
    )
    write_section("Category prediction (the MercadoLibre sandbox)", body)
    print(body)


if __name__ == "__main__":
    main()
