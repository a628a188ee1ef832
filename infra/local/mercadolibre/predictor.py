"""The category predictor behind `/sites/{SITE}/domain_discovery/search`: a lexical ranker.

Every category where listing is allowed is a document with two fields, its own name and its
ancestors' names, scored against the query with BM25F after folding case and accents, dropping stop
words and stripping Spanish/Portuguese plurals ("Auriculares" meets "auricular", "colchões" meets
"colchão"). Query words count less the later they come, since sellers name the product first. A
prior breaks near-ties: real item counts on MLB, a penalty for niche subtrees on MLA. The measured
accuracy, on labelled seller queries, is asserted in tests/sandbox/test_predictor.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from infra.local.mercadolibre.catalog import Catalog, Category, fold

# A query word in the category's own name says far more than one in its ancestors' names.
FIELD_WEIGHTS = {"name": 3.0, "ancestors": 0.5}
K1 = 1.2
B = 0.3  # category names are short: length matters, but not much
POSITION_DECAY = 0.6
# MLB categories carry their real item counts: the busier of two equally good matches wins.
PRIOR_WEIGHT = 1.0
# MLA has no counts. Collectibles, services, professional equipment and toy replicas share their
# names with everyday products ("Licuadoras", "Cafeteras") but rarely are what a seller means
# unless the query says so (then the matching word outweighs this).
NICHE_PENALTY = 1.0
NICHE_PATHS = ("antiguedades y colecciones", "servicios", "industrias y oficinas", "de juguete")
# Words sellers use that no category name contains.
SYNONYMS = {"tv": "televisor", "laptop": "notebook", "smartphone": "celular"}
DEFAULT_LIMIT = 4
MAX_LIMIT = 8

SPANISH_STOP_WORDS = "a al con de del e el en la las lo los o para por sin su un una y otros otras demas"
PORTUGUESE_STOP_WORDS = "as ao aos com da das do dos em na nas no nos ou pra sem um uma outros outras mais"
STOP_WORDS = frozenset(f"{SPANISH_STOP_WORDS} {PORTUGUESE_STOP_WORDS}".split())
WORD = re.compile(r"[a-z0-9]+")
QUALIFIER = re.compile(
    r"^(de|del|para|con|sin|da|do|das|dos|com|sem|otros|otras|outros|outras)\b", re.IGNORECASE
)


def stem(word: str, portuguese: bool) -> str:
    """A common form for a word's singular and plural, good enough to match category names.

    Strips a final "s", then the "e" of a Spanish "-es" plural after r, l, n, d, z or j, so that
    celular/celulares, colchón/colchones and smartphone/smartphones meet; Portuguese plurals in
    -ões/-ães, -ais, -éis and -ns go back to -ão, -al, -el and -m first.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if portuguese:
        for plural, singular in (("oes", "ao"), ("aes", "ao"), ("ais", "al"), ("eis", "el"), ("ns", "m")):
            if word.endswith(plural) and len(word) > len(plural) + 2:
                return word[: -len(plural)] + singular
    if word.endswith("s"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 4 and word[-2] in "rlndzj":
        word = word[:-1]
    return word


def terms(text: str, site_id: str) -> list[str]:
    portuguese = site_id == "MLB"
    return [stem(word, portuguese) for word in WORD.findall(fold(text)) if word not in STOP_WORDS]


@dataclass(frozen=True)
class Document:
    category: Category
    term_weights: dict[str, float]
    length: float
    prior: float


class CategoryPredictor:
    """BM25F over the listable categories of each site, built once from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.documents: dict[str, list[Document]] = {}
        self.idf: dict[str, dict[str, float]] = {}
        self.average_length: dict[str, float] = {}
        for site_id in {category.site_id for category in catalog.categories.values()}:
            self._index(site_id, catalog.listable(site_id))

    def _index(self, site_id: str, categories: list[Category]) -> None:
        documents = []
        document_frequency: Counter[str] = Counter()
        most_items = max((category.total_items for category in categories), default=0)
        for category in categories:
            names = [name for _, name in category.path]
            name_terms = terms(names[-1], site_id)
            if QUALIFIER.match(names[-1]) and len(names) > 1:
                name_terms += terms(names[-2], site_id)  # "Taladros > De Mano": the parent names it
            fields = {
                "name": name_terms,
                "ancestors": [term for name in names[:-1] for term in terms(name, site_id)],
            }
            # A word counts once, in its strongest field: "Celulares" in both the name and the
            # ancestors must not beat a category that only says it in its name.
            term_weights: dict[str, float] = defaultdict(float)
            for field_name, field_terms in fields.items():
                for term in field_terms:
                    term_weights[term] = max(term_weights[term], FIELD_WEIGHTS[field_name])
            length = sum(FIELD_WEIGHTS[name] * len(field_terms) for name, field_terms in fields.items())
            if most_items:
                prior = PRIOR_WEIGHT * math.log1p(category.total_items) / math.log1p(most_items)
            else:
                path = fold(" > ".join(names))
                prior = -NICHE_PENALTY if any(niche in path for niche in NICHE_PATHS) else 0.0
            documents.append(Document(category, dict(term_weights), length, prior))
            document_frequency.update(term_weights.keys())
        count = len(documents)
        self.documents[site_id] = documents
        self.idf[site_id] = {
            term: math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
            for term, frequency in document_frequency.items()
        }
        self.average_length[site_id] = sum(d.length for d in documents) / max(count, 1)

    def rank(self, site_id: str, query: str, limit: int = DEFAULT_LIMIT) -> list[Category]:
        """The best `limit` categories for the query, best first; empty when no word is known."""
        idf = self.idf.get(site_id, {})
        words = [SYNONYMS.get(word, word) for word in WORD.findall(fold(query))]
        known = [term for term in dict.fromkeys(terms(" ".join(words), site_id)) if term in idf]
        if not known:
            return []
        # Sellers name the product first and its brand and specs after: "colchón 2 plazas espuma".
        query_weights = {term: POSITION_DECAY**position for position, term in enumerate(known)}
        average = self.average_length[site_id]
        scored = []
        for document in self.documents[site_id]:
            norm = K1 * (1 - B + B * document.length / average)
            score = 0.0
            for term, query_weight in query_weights.items():
                tf = document.term_weights.get(term)
                if tf:
                    score += query_weight * idf[term] * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                score += document.prior
                # Ties go to the shallower category.
                scored.append((-score, len(document.category.path), document.category.id, document))
        scored.sort(key=lambda entry: entry[:3])
        return [entry[3].category for entry in scored[:limit]]

    def domain_discovery(self, site_id: str, query: str, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
        """The `/sites/{SITE}/domain_discovery/search` response."""
        return [
            {
                "domain_id": category.domain_id,
                "domain_name": category.domain_name,
                "category_id": category.id,
                "category_name": category.name,
                "attributes": [],
            }
            for category in self.rank(site_id, query, limit)
        ]
