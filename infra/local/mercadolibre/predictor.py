"""The category predictor behind `/sites/{SITE}/domain_discovery/search`: a lexical ranker that reads a
seller's query the way sellers write it.

The index. Every category where listing is allowed is a document scored against the query with BM25F,
after folding case and accents, dropping stop words and Spanish/Portuguese plurals. Its fields: the nouns
its own name is about ("Bases" in "Bases para Ventiladores de Pie", "Amoladoras" in "Amoladoras
Neumáticas"), the rest of its own name, its parent's name, its other ancestors' names, and the words of
its real MLB catalog domain (MLB-AIR_FRYERS; an MLA category takes its MLB twin's, the category with the
same number: "Tazas" of cars, MLB-VEHICLE_WHEEL_COVERS). A name that only qualifies ("De Mano", "Para
PlayStation", "Otros") takes its nouns from its parent, and so, beside its own, does a leaf named by a
word the tree mostly uses as an adjective ("Pañales > Descartables", "Estufas > Eléctricos").

The query. Seller words and abbreviations become the words category names use, product lines name their
product, and some brands hint at theirs (data/seller_words.json: "celu" is a celular, an iPhone or a
"moto g84" a celular, a PS5 a consola, a Fiat a car; and MercadoLibre's top brands of a domain: Samsung,
Xiaomi are phones). Colours and conditions (the real sheet's MAIN_COLOR, COLOR and ITEM_CONDITION
values), sizes, units, numbers, counts and the seller words' describing words count little, and so does
what follows "para"/"con"; of the words that name the product, the first counts most, since sellers name
the product first. A set or a package first holds the product ("set cuchillos", "caixa de bombom"),
unless the tree names the whole ("Juegos de Mesa", "Caixas de Som"). When the first words naming the
product are unknown to the tree, a known word one letter away stands in ("zapatila", "geladera frost
free"); when no word at all is known, the answer is MercadoLibre's catch-all for unclassified products
("Otras categorías > Otros").

The tree. Accessories and spare parts share their product's words ("Bases para Ventiladores de Pie"), so
they count less unless the query's product is the part and it says what the part is for ("cargador de
celular"), or the query asks for that kind of part ("repuesto", "accesorio", "peça"...). Branches for
another audience (babies, children, pets, antiques, industry, esoterism, toy replicas of real products,
sportswear for what is also everyday wear...) count less unless the query names that audience, and so
does a sport's variant of an everyday product ("Golf > Gorras", "Ciclismo > Pneus") unless the query
names the sport, and what is not of the sport a query names ("guantes de boxeo": not "Guantes y
Mitones"); so do categories that do not say what the query's product is for or of (a leaf whose whole
name the query says, "Sogas para Saltar", counts more), and categories whose own nouns the query does not
say ("Infladores de Pelota" for a pelota), catch-alls ("Otros", "Otros Relojes"), leaves for something
the query does not name ("Cubiertas para Motos") and levels of the path the query says nothing about. On
MLB, the busier of two categories wins near-ties (real item counts); of two the tree cannot tell apart,
the older (lower id: MercadoLibre numbers categories as it creates them) comes first.

How sure. MercadoLibre's documented answer has no score: it lists its predictions most likely first ("la
primera es la de mayor probabilidad") and `limit` is a maximum. So the sandbox lists only the predictions
that come close to the first: one answer when it is sure, the rivals when it is torn. The answer's
`attributes` are the values MercadoLibre's own data recognises in the title (BRAND, LINE, MODEL with
their value ids). Measured on labelled seller queries (tests/sandbox/category_queries*.json) by `python
-m bench.category_predictor`, which writes the figures to BENCHMARKS.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra.local.mercadolibre.catalog import DATA_DIR, Catalog, Category, fold, real_attributes


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- the index --------------------------------------------------------------------------------------
FIELD_WEIGHTS = {"head": 3.0, "name": 1.5, "parent": 1.0, "domain": 0.8, "ancestors": 0.5}
K1 = 1.2
B = 0.3  # category names are short: length matters, but not much
PRIOR_WEIGHT = 1.0  # MLB's item counts: up to double the score of the busiest category
ACCESSORY_FACTOR = 0.35  # an accessory or spare part when the query names neither
NAMED_PART_FACTOR = 0.8  # ... when it names the part but not what it is for (and says no "repuesto")
AUDIENCE_FACTOR = 0.5
KIND_NAME_MIN = 2  # uses after a noun that make a word an adjective (more than as a noun)
HEADLESS_FACTOR = 0.8  # a category whose own nouns the query does not say ("Infladores de Pelota")
SPORT_FACTOR = 0.7  # "Golf > Gorras" when the query names no sport (a gorra is also everyday wear)
# ... and what is not of the sport the query names ("guantes de boxeo": not "Guantes y Mitones"); a sport's
# word names it when most categories using the word are that sport's.
SPORT_WORD_SHARE = 0.8
CATCH_ALL_FACTOR = 0.7  # "Otros": where a product goes when no other category fits
PURPOSE_FACTOR = 0.8  # "Cubiertas para Motos" when the query does not say motos
KIND_FACTOR = 0.85  # "Amoladoras Neumáticas", "Muñecas de Porcelana" when the query does not say so
UNEXPLAINED_FACTOR = 0.9  # per level of the path the query says nothing about
WHOLE_NAME_FACTOR = 1.2  # the query says every word of the leaf's name, of two or more ("Sogas para Saltar")
UNSAID_FACTOR = 0.85  # per word of what the query's product is for or of that the category does not say

# -- the query --------------------------------------------------------------------------------------
POSITION_DECAY = 0.7
DESCRIBING_WEIGHT = 0.15  # a colour, a size, a condition, a number
AFTER_FOR_WEIGHT = 0.5  # what follows "para"/"con": what the product is for or comes with
AFTER_OF_WEIGHT = 0.6  # what follows "de": what the product is of ("pastillas de freno")
LINE_WORD_WEIGHT = 0.3  # "PlayStation" itself, beside the product it names
PART_CUE_WEIGHT = 0.5  # "repuesto", "accesorio": the kind of thing, not the thing
BRAND_WEIGHT = 0.3  # a brand's usual product (MercadoLibre's top brands of a domain)
TYPO_MIN_LENGTH = 5  # shorter words are too easily one letter from another word
TYPO_FACTOR = 0.8  # a word read as a known one spelled one letter differently

# -- the answer -------------------------------------------------------------------------------------
DEFAULT_LIMIT = 4
MAX_LIMIT = 8
CONTENDER_SHARE = 0.8  # a prediction scoring less than this share of the first is not listed

STOP_WORDS = word_set(
    "a al con de del e el en la las lo los o para por sin su un una y otros otras otro demas "
    "as ao aos com da das do dos em na nas no nos ou pra sem um uma outros outras outro mais"
)
# In a name, what follows one of these qualifies the nouns before it; "y"/"e" and commas start new nouns.
FOR_WORDS = word_set("para con sin com sem pra")
PREPOSITIONS = FOR_WORDS | word_set("de del a al en da das do dos em no na por")
CONJUNCTIONS = word_set("y e ou o")
OF_WORDS = word_set("de del da das do dos ao aos en em")
# "juego de llaves" is a set of keys, "caja de bombones" bonbons, unless the tree names the whole ("Juegos
# de Mesa", "Cajas de Herramientas"); after the product, a package only describes it ("alfajores caja x 12").
PACKAGE_WORDS = word_set("caja cajas caixa caixas pack packs paquete paquetes pacote pacotes")
SET_WORDS = word_set("juego juegos jogo jogos kit kits set sets") | PACKAGE_WORDS
DIMINUTIVES = (
    ("inhas", "as"),
    ("inhos", "os"),
    ("inha", "a"),
    ("inho", "o"),
    ("itas", "as"),
    ("itos", "os"),
    ("ita", "a"),
    ("ito", "o"),
)
CATCH_ALL = word_set("otros otras otro outros outras outro")
# Nodes named by these are spare-part or accessory branches ("Repuestos y Accesorios", "Peças e
# Acessórios", "Acc. para Motos"); a query saying one asks for that kind of part.
SPARE_WORDS = word_set(
    "repuesto repuestos refaccion refacciones pieza piezas parte partes reposicion peca pecas reposicao"
)
ACCESSORY_WORDS = word_set("accesorio accesorios acc aces acessorio acessorios insumo insumos")
PART_WORDS = SPARE_WORDS | ACCESSORY_WORDS
# Branches for another audience than the everyday buyer; the query has to name it.
AUDIENCE_WORDS = word_set(
    "bebe bebes mascota mascotas perro perros gato gatos ave aves peces roedores cachorro cachorros "
    "animais animal antiguedades antiguidades antiguo antigua antigos colecciones colecoes coleccionables "
    "colecionaveis servicios servicos industrias industria gastronomia hoteleria hotelaria adultos "
    "eroticos esoterismo ocultismo tatuajes tatuagens agro pesada camiones caminhoes nautica nauticos "
    "nauticas embarazadas gestante maternidad maternidade laboral tacticos taticos militaria militar "
    "medico medicos clinico hospitalares veterinaria peluqueria cabeleireiros cotillon souvenirs "
    "lembrancinhas neumaticas pneumaticas infantil infantiles infantis ninos ninas nino nina criancas crianca"
)
# Toys and sport are main branches, but "Celulares de Juguete" is not a phone and "Ropa Deportiva" not
# every T-shirt: for a toy replica of a real product, or below the root (sport), these make an audience.
TOY_WORDS = word_set("juguete juguetes brinquedo brinquedos")
SPORT_WORDS = word_set(
    "deportiva deportivas deportivo deportivos fitness esportiva esportivas esportivo esportivos"
)
SPORT_ROOTS = word_set("deportes esportes")  # the sports department, whose branches are sports
WORD = re.compile(r"[a-z0-9]+")

# The real sheet whose colour and condition values describe a product rather than name it.
DESCRIBING_SHEET = "MLA1055"
# MercadoLibre's top brands of a domain (/catalog_domains/{domain}/attributes/BRAND/top_values).
TOP_BRANDS = {"MLA-CELLPHONES": "docs_top_values_MLA-CELLPHONES_BRAND.json"}
# MercadoLibre's catch-all for what no other category names ("Otras categorías > Otros").
UNCLASSIFIED = "UNCLASSIFIED_PRODUCTS"
# Documented answers whose recognised attributes (BRAND, LINE, MODEL with MercadoLibre's value ids) the
# sandbox gives back when a title names one of them; values travel together as the answer shows them.
DOCUMENTED_ANSWERS = ("docs_MLA_domain_discovery_celular_iphone.json",)


@cache
def words_of(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(fold(text)))


@cache
def stem(word: str, portuguese: bool) -> str:
    """A common form for a word's singular and plural, good enough to match category names.

    Strips a final "s", then the "e" of a Spanish "-es" plural after r, l, n, d, z, j or ch, so that
    celular/celulares, colchón/colchones and smartwatch/smartwatches meet, and writes a final "ie" as
    "y" (whisky/whiskies); Portuguese plurals in -ões/-ães, -ais, -éis, -óis and -ns go back to -ão,
    -al, -el, -ol and -m first.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if portuguese:
        for plural, singular in (
            ("oes", "ao"),
            ("aes", "ao"),
            ("ais", "al"),
            ("eis", "el"),
            ("ois", "ol"),
            ("ns", "m"),
        ):
            if word.endswith(plural) and len(word) > len(plural) + 1:
                return word[: -len(plural)] + singular
    if word.endswith("s"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 4 and (word[-2] in "rlndzj" or word.endswith("che")):
        word = word[:-1]
    if word.endswith("ie") and len(word) > 4:
        word = word[:-2] + "y"
    return word


@cache
def name_parts(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A category name's nouns and the words that qualify them: "Bases para Ventiladores de Pie" ->
    (bases), (ventiladores, pie); "Amoladoras Neumáticas" -> (amoladoras), (neumaticas), as adjectives
    follow their noun; "Celulares y Smartphones" -> both nouns."""
    nouns: list[str] = []
    qualifiers: list[str] = []
    qualifying = False
    for piece in re.findall(r"[a-z0-9]+|,", fold(name)):
        if piece == "," or piece in CONJUNCTIONS:
            qualifying = False
        elif piece in PREPOSITIONS:
            qualifying = True
        elif piece not in STOP_WORDS:
            (qualifiers if qualifying else nouns).append(piece)
            qualifying = True
    return tuple(nouns), tuple(qualifiers)


def adjectives(name: str) -> list[str]:
    """The words right after a noun, with no preposition between: "Cepillos Eléctricos" -> eléctricos."""
    found: list[str] = []
    after_noun = False
    for piece in re.findall(r"[a-z0-9]+|,", fold(name)):
        if piece == "," or piece in CONJUNCTIONS or piece in PREPOSITIONS:
            after_noun = False
        elif piece not in STOP_WORDS:
            if after_noun:
                found.append(piece)
            after_noun = True
    return found


def qualifies(name: str) -> bool:
    """ "De Mano", "Para PlayStation", "Otros": a name about its parent's product."""
    first = words_of(name)[:1]
    return not first or first[0] in PREPOSITIONS | CATCH_ALL


def one_letter_less(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


Meaning = tuple[tuple[str, ...], ...]  # places of the query, each with the words that may fill it


MODEL = re.compile(r"([a-z]+)\d+[a-z]*")  # "g84": a model of a line whose name ends in a letter


def find_phrases(
    words: tuple[str, ...], table: dict[tuple[str, ...], Meaning]
) -> list[tuple[int, int, Meaning | None]]:
    """The words cut into the table's longest phrases: (start, size, meaning or None). A phrase's last
    word may be a model's letters ("moto g" in "moto g84")."""
    longest = max(len(phrase) for phrase in table)
    pieces: list[tuple[int, int, Meaning | None]] = []
    position = 0
    while position < len(words):
        for size in range(min(longest, len(words) - position), 0, -1):
            phrase = words[position : position + size]
            meaning = table.get(phrase)
            if meaning is None and size > 1 and (model := MODEL.fullmatch(phrase[-1])):
                meaning = table.get((*phrase[:-1], model.group(1)))
            if meaning is not None:
                break
        pieces.append((position, size, meaning))
        position += size
    return pieces


@dataclass(frozen=True)
class SellerWords:
    """How sellers write (data/seller_words.json, folded), and the brands that hint at a product: theirs,
    and MercadoLibre's top brands of a domain (the nouns of the domain's main category)."""

    same_as: dict[tuple[str, ...], Meaning]
    lines: dict[tuple[str, ...], Meaning]
    describing: frozenset[str]
    brands: dict[str, Meaning]  # brand -> the product it hints at

    @classmethod
    def load(cls, catalog: Catalog) -> SellerWords:
        data = json.loads((DATA_DIR / "seller_words.json").read_text(encoding="utf-8"))
        sheet = real_attributes(DESCRIBING_SHEET)
        describing = {
            word
            for attribute in sheet
            if attribute["id"] in ("MAIN_COLOR", "COLOR", "ITEM_CONDITION")
            for value in attribute["values"]
            for word in words_of(value["name"])
        }
        brands: dict[str, Meaning] = {}
        for domain_id, file_name in TOP_BRANDS.items():
            main = next(c for c in catalog.listable(domain_id[:3]) if c.domain_id == domain_id)
            for brand in json.loads((DATA_DIR / "attributes" / file_name).read_text(encoding="utf-8")):
                brands[fold(brand["name"])] = (name_parts(main.name)[0],)

        def meanings(table: dict[str, str]) -> dict[tuple[str, ...], Meaning]:
            return {
                words_of(phrase): tuple(words_of(place.replace("|", " ")) for place in meaning.split())
                for phrase, meaning in table.items()
            }

        return cls(
            same_as=meanings(data["same_as"]),
            lines=meanings(data["product_lines"]),
            describing=frozenset(words_of(data["describing"])) | describing,
            brands={word: meaning for (word,), meaning in meanings(data["brands"]).items()} | brands,
        )


@cache
def known_attribute_values() -> dict[str, list[list[dict[str, str]]]]:
    """Per domain, groups of attribute values MercadoLibre's own data names: a documented answer's
    attributes (one group) and a domain's top brands (one group each)."""
    known: dict[str, list[list[dict[str, str]]]] = defaultdict(list)
    for file_name in DOCUMENTED_ANSWERS:
        for answer in json.loads((DATA_DIR / "examples" / file_name).read_text(encoding="utf-8")):
            known[answer["domain_id"]].append(answer["attributes"])
    for domain_id, file_name in TOP_BRANDS.items():
        for brand in json.loads((DATA_DIR / "attributes" / file_name).read_text(encoding="utf-8")):
            known[domain_id].append([{"id": "BRAND", "value_id": brand["id"], "value_name": brand["name"]}])
    return dict(known)


def recognised_attributes(domain_id: str, query: str) -> list[dict[str, str]]:
    """The known values of the domain that the title names (with every value of a group one is in)."""
    title = f" {' '.join(words_of(query))} "
    found: dict[str, dict[str, str]] = {}
    for group in known_attribute_values().get(domain_id, []):
        if any(f" {' '.join(words_of(value['value_name']))} " in title for value in group):
            for value in group:
                found.setdefault(value["id"], dict(value))
    return list(found.values())


@dataclass(frozen=True)
class Document:
    category: Category
    levels: tuple[frozenset[str], ...]  # each level's terms below the root, to see which the query explains
    purpose: frozenset[str]  # what the leaf says it is for ("Cubiertas para Motos")
    heads: frozenset[str]  # the nouns of the name that says what the product is
    kind: frozenset[str]  # what the leaf's name says of its nouns ("Amoladoras Neumáticas", "de Porcelana")
    part_words: frozenset[str]  # the nouns naming the leaf itself, when it is an accessory or a part
    hosts: frozenset[str]  # what an accessory or a part is for ("Accesorios para Celulares")
    part_kinds: frozenset[str]  # the part words above it: "repuesto", "accesorio"...
    whole_name: frozenset[str]  # the leaf's name, when it has two words or more
    catch_all: bool
    audience: frozenset[str]
    # Below the sports department, the sport; sportswear ("Ropa Deportiva"): for what is also everyday
    # wear or gear elsewhere, the query has to name them ("Golf > Gorras", "Ciclismo > Calças").
    sport: tuple[frozenset[str], ...]  # the sport's nouns and qualifiers, what the leaf is of
    of_sport: frozenset[str]  # the sport's nouns, for every category of the sports department
    sportswear: frozenset[str]
    toy: bool
    prior: float


@dataclass(frozen=True)
class Place:
    """One place of the query: the terms that may fill it (one counts), how much it weighs, and whether
    it names the product (rather than describing it or saying what it is for)."""

    terms: tuple[str, ...]
    weight: float
    product: bool
    part: bool = False  # "repuesto", "accesorio": asks for that kind of part


@dataclass(frozen=True)
class Prediction:
    category: Category
    score: float


class CategoryPredictor:
    """BM25F over the listable categories of each site, built once from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.words = SellerWords.load(catalog)
        self.line_words = frozenset(word for phrase in self.words.lines for word in phrase)
        self.documents: dict[str, list[Document]] = {}
        self.postings: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self.norms: dict[str, list[float]] = {}
        self.terms: dict[str, list[frozenset[str]]] = {}  # each category's terms, all fields
        self.sports: dict[str, frozenset[str]] = {}  # words that name a sport of the sports department
        self.idf: dict[str, dict[str, float]] = {}
        self.near: dict[str, dict[str, list[str]]] = {}  # a term with one letter less -> the terms
        self.unclassified: dict[str, Category] = {}
        self.set_names: dict[str, set[tuple[str, str]]] = {}  # ("jogo", "tabuleiro"): a set that is a product
        self.twin_domains = {  # an MLB leaf's number -> its catalog domain
            category.id[3:]: category.domain_id
            for category in catalog.listable("MLB")
            if not category.children
        }
        for site_id in sorted({category.site_id for category in catalog.categories.values()}):
            listable = catalog.listable(site_id)
            self._index(site_id, listable)
            portuguese = site_id == "MLB"
            self.set_names[site_id] = {
                (stem(words[0], portuguese), stem(words[2], portuguese))
                for category in listable
                for _, name in category.path
                if len(words := words_of(name)) > 2 and words[0] in SET_WORDS and words[1] in OF_WORDS
            }
            self.unclassified[site_id] = min(  # the one right under a department ("Otras categorías")
                (c for c in listable if c.domain_id == f"{site_id}-{UNCLASSIFIED}"),
                key=lambda c: (len(c.path), -c.total_items, c.id),
            )

    def _index(self, site_id: str, categories: list[Category]) -> None:
        most_items = max((category.total_items for category in categories), default=0)
        # What leaves outside the toy branches are called: a toy leaf named the same is a replica.
        real = {
            name_parts(category.name)[0]
            for category in categories
            if not qualifies(category.name)
            and not any(set(words_of(name)) & TOY_WORDS for _, name in category.path)
        }
        portuguese = site_id == "MLB"
        # Words the tree mostly uses as adjectives ("Eléctricos", "Descartables", "Manuales"): a leaf named
        # by one alone is a kind of its parent's product ("Pañales > Descartables").
        names = {name for category in categories for _, name in category.path}
        as_noun = Counter(stem(word, portuguese) for name in names for word in name_parts(name)[0])
        as_adjective = Counter(stem(word, portuguese) for name in names for word in adjectives(name))
        kinds = {
            term for term, count in as_adjective.items() if count >= KIND_NAME_MIN and count > as_noun[term]
        }
        documents: list[Document] = []
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        lengths: list[float] = []
        terms: list[frozenset[str]] = []
        for index, category in enumerate(categories):
            document, term_weights = self._document(category, most_items, real, kinds)
            documents.append(document)
            terms.append(frozenset(term_weights))
            for term, weight in term_weights.items():
                postings[term].append((index, weight))
            lengths.append(sum(term_weights.values()))
        sport_words = {term for document in documents for term in document.of_sport}
        self.sports[site_id] = frozenset(
            term
            for term in sport_words
            if sum(1 for index, _ in postings[term] if term in documents[index].of_sport)
            >= SPORT_WORD_SHARE * len(postings[term])
        )
        # What everyday products are called: outside sport, toys and other audiences' branches.
        everyday = {
            term
            for document in documents
            if not (document.sport or document.sportswear or document.toy) and not document.audience
            for term in document.heads
        }
        documents = [
            document
            if document.heads & everyday
            else dataclasses.replace(document, sport=(), sportswear=frozenset())
            for document in documents
        ]
        average = sum(lengths) / max(len(lengths), 1)
        self.documents[site_id] = documents
        self.postings[site_id] = dict(postings)
        self.terms[site_id] = terms
        self.norms[site_id] = [K1 * (1 - B + B * length / average) for length in lengths]
        self.idf[site_id] = {
            term: math.log(1 + (len(documents) - len(entries) + 0.5) / (len(entries) + 0.5))
            for term, entries in postings.items()
        }
        near: dict[str, list[str]] = defaultdict(list)
        for term in postings:
            if len(term) >= TYPO_MIN_LENGTH and term.isalpha():
                for variant in one_letter_less(term):
                    near[variant].append(term)
        self.near[site_id] = dict(near)

    def _document(
        self,
        category: Category,
        most_items: int,
        real: set[tuple[str, ...]],
        kinds: set[str],
    ) -> tuple[Document, dict[str, float]]:
        portuguese = category.site_id == "MLB"

        def terms_of(words: tuple[str, ...] | list[str] | set[str]) -> frozenset[str]:
            return frozenset(stem(word, portuguese) for word in words if word not in STOP_WORDS)

        names = [name for _, name in category.path]
        leaf = names[-1]
        parts = [name_parts(name) for name in names]
        fields: dict[str, list[str]] = {name: [] for name in FIELD_WEIGHTS}
        own = len(names) - 1  # the name that says what the product is
        while own > 0 and qualifies(names[own]):
            fields["name"] += words_of(names[own])
            own -= 1
        fields["head"] += parts[own][0]
        leaf_terms = terms_of(words_of(leaf))
        if own == len(names) - 1 and own > 0 and len(leaf_terms) == 1 and leaf_terms <= kinds:
            fields["head"] += parts[own - 1][0]  # "Pañales > Descartables": a kind of pañales
        fields["name"] += parts[own][1]
        # "Accesorios para Celulares", "Smartwatches y Accesorios", "Repuestos Autos y Camionetas": below
        # them, what is not the product they name is a part of that product, and says what it is for. (A
        # root such as "Ropa y Accesorios" is a whole department, not one product's parts.)
        hosts: list[str] = []
        part_kinds: list[str] = []
        for level in range(own):
            nouns, qualifiers = parts[level]
            if set(nouns) <= PART_WORDS if level == 0 else PART_WORDS & set(nouns):
                products = [noun for noun in nouns if noun not in PART_WORDS]
                if not set(parts[own][0]) & set(products):
                    hosts += products + list(qualifiers)
                    part_kinds += [noun for noun in nouns if noun in PART_WORDS]
                    fields["name"] += products + list(qualifiers)
                    fields["ancestors"] += [noun for noun in nouns if noun in PART_WORDS]
                    continue
            fields["parent" if level == own - 1 else "ancestors"] += words_of(names[level])
        # MLB's real catalog domain; an MLA category takes its MLB twin's (the same number, the same
        # category: "Jaulas para Mascotas", MLB-ANIMAL_CAGES).
        domain = category.domain_id if portuguese else self.twin_domains.get(category.id[3:], "")
        if domain.startswith("MLB-"):
            fields["domain"] = domain[4:].lower().split("_")
        term_weights: dict[str, float] = defaultdict(float)
        for field_name, words in fields.items():
            for term in terms_of(words):
                term_weights[term] = max(term_weights[term], FIELD_WEIGHTS[field_name])
        leaf_words = words_of(leaf)
        audience = {word for name in names for word in words_of(name)} & AUDIENCE_WORDS
        sportswear = {word for name in names[1:] for word in words_of(name)} & SPORT_WORDS
        toys = {word for name in names[1:] for word in words_of(name)} & TOY_WORDS
        if toys and (set(leaf_words) & TOY_WORDS or parts[-1][0] in real):  # "Heladeras" for dolls
            audience |= toys
        sport: tuple[frozenset[str], ...] = ()
        if set(words_of(names[0])) & SPORT_ROOTS and own > 1:
            sport = (terms_of(parts[1][0]), terms_of(parts[1][1]), terms_of(parts[own][1]))
        document = Document(
            category,
            levels=tuple(
                terms
                for level, name in enumerate(names)
                if level > 0 and not set(parts[level][0]) <= PART_WORDS
                if (terms := terms_of(words_of(name)))
            ),
            purpose=terms_of(leaf_words[leaf_words.index("para") :] if "para" in leaf_words else ()),
            heads=terms_of(fields["head"]),
            kind=terms_of(
                [
                    word
                    for word in parts[-1][1]
                    if "para" not in leaf_words or leaf_words.index(word) < leaf_words.index("para")
                ]
            ),
            part_words=terms_of(
                [
                    noun
                    for noun in parts[own][0]
                    if noun not in PART_WORDS | self.line_words and not noun.isdigit()
                ]
            ),
            hosts=terms_of(hosts),
            part_kinds=terms_of(part_kinds),
            whole_name=whole if len(whole := terms_of(leaf_words)) > 1 else frozenset(),
            # "Otros", "Otros Relojes" under "Relojes": where what fits no sibling goes.
            catch_all=leaf_words[:1] in [(word,) for word in CATCH_ALL]
            and terms_of(leaf_words[1:])
            <= terms_of([word for name in names[-2:-1] for word in words_of(name)]),
            audience=terms_of(audience),
            sport=sport,
            of_sport=sport[0] if sport else frozenset(),
            sportswear=terms_of(sportswear),
            toy=bool({word for name in names for word in words_of(name)} & TOY_WORDS),
            prior=math.log1p(category.total_items) / math.log1p(most_items) if most_items else 0.0,
        )
        return document, dict(term_weights)

    def spelled_like(self, site_id: str, term: str) -> tuple[str, ...]:
        """Known terms one letter away from an unknown one ("zapatila", "heladeira")."""
        if len(term) < TYPO_MIN_LENGTH or not term.isalpha():
            return ()
        near, variants = self.near[site_id], one_letter_less(term)
        found = near.get(term, []) + [known for variant in variants for known in near.get(variant, [])]
        found += [variant for variant in variants if variant in self.idf[site_id]]
        return tuple(
            dict.fromkeys(known for known in found if known[:2] == term[:2])
        )  # typos spare the start

    def joined(self, site_id: str, places: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """Words a seller splits that a category name writes as one ("micro-ondas": Microondas)."""
        idf, portuguese = self.idf[site_id], site_id == "MLB"
        result: list[tuple[str, ...]] = []
        for place in places:
            if (
                result
                and len(result[-1]) == len(place) == 1
                and result[-1][0].isalpha()
                and place[0].isalpha()
            ):
                whole = result[-1][0] + place[0]
                if stem(whole, portuguese) in idf:
                    result[-1] = (whole,)
                    continue
            result.append(place)
        return result

    def plain_form(self, site_id: str, place: tuple[str, ...]) -> tuple[str, ...]:
        """A diminutive the tree does not use, beside its plain form ("capinha": capa, "autito": auto)."""
        word, idf, portuguese = place[0], self.idf[site_id], site_id == "MLB"
        if len(place) > 1 or stem(word, portuguese) in idf:
            return place
        for small, plain in DIMINUTIVES:
            if word.endswith(small) and stem(word[: -len(small)] + plain, portuguese) in idf:
                return (word, word[: -len(small)] + plain)
        return place

    def pieces_of_set(self, site_id: str, word: str, after: tuple[str, ...]) -> bool:
        """Whether what follows a set or package word ("de llaves", "cuchillos") is what the set holds,
        rather than the rest of a whole the tree names ("Juegos de Mesa", "Cajas de Herramientas")."""
        portuguese = site_id == "MLB"
        if after[:1] in (("de",), ("da",), ("do",)):
            after = after[1:]
        if not after or not after[0].isalpha() or after[0] in STOP_WORDS | PART_WORDS:
            return False
        return (stem(word, portuguese), stem(after[0], portuguese)) not in self.set_names[site_id]

    def read_query(self, site_id: str, query: str) -> list[Place]:
        """The query's places, in order, each with the terms that may fill it and how much it says."""
        portuguese = site_id == "MLB"
        words = words_of(query)
        # Seller words first: each word or phrase of the query becomes one or more places.
        places: list[tuple[str, ...]] = []
        for start, size, meaning in find_phrases(words, self.words.same_as):
            places += meaning or [(word,) for word in words[start : start + size]]
        places = self.joined(site_id, places)
        read: list[tuple[tuple[str, ...], float | None]] = []  # None: names the product, ranked below
        parts: set[int] = set()  # which of them ask for a kind of part
        qualifying: float | None = None  # after "para"/"con" or "de": what the product is for, or of
        previous = ""
        container = False  # the previous word was a set or a package holding the product
        firsts = tuple(place[0] for place in places)
        for start, size, meaning in find_phrases(firsts, self.words.lines):
            if meaning is not None:  # "iPhone": the product is a celular, and the line describes it
                read += [(place, qualifying) for place in meaning]
                read += [(place, LINE_WORD_WEIGHT) for place in places[start : start + size]]
                continue
            place = self.plain_form(site_id, places[start])
            word = place[0]
            if word in FOR_WORDS:
                qualifying = AFTER_FOR_WEIGHT
            elif word in OF_WORDS:
                # "juego de llaves": the keys are the product; "caja de herramientas" is the product, but
                # "caja de bombones" is bonbons.
                if not (previous in SET_WORDS and (previous not in PACKAGE_WORDS or container)):
                    qualifying = qualifying or AFTER_OF_WEIGHT
            elif word in SET_WORDS and not read and self.pieces_of_set(site_id, word, firsts[start + 1 :]):
                read.append((place, AFTER_OF_WEIGHT))  # the set's pieces (or the package's) are the product
                container = True
            elif word in STOP_WORDS:
                pass
            elif (read and word in self.words.describing) or any(c.isdigit() for c in previous + word):
                # A colour or a size describes ("chocolate" names the product when it comes first); so
                # does what follows a number, a count or a spec: "1000 piezas", "8gb ram".
                read.append((place, DESCRIBING_WEIGHT))
            elif word in PART_WORDS and qualifying is None:  # "con accesorios" is not a part
                parts.add(len(read))
                read.append((place, PART_CUE_WEIGHT))
            elif word in self.words.brands:
                read.append((place, DESCRIBING_WEIGHT))
                read += [(nouns, BRAND_WEIGHT) for nouns in self.words.brands[word]]
            else:
                read.append((place, qualifying))
            previous = word
        result: list[Place] = []
        for index, (alternatives, weight) in enumerate(read):
            terms = tuple(dict.fromkeys(stem(word, portuguese) for word in alternatives))
            named = sum(1 for place in result if place.product)
            if weight is None:
                result.append(Place(terms, POSITION_DECAY**named, True))
            else:
                result.append(Place(terms, weight, False, part=index in parts))
        return result

    def rank(self, site_id: str, query: str, limit: int = DEFAULT_LIMIT) -> list[Prediction]:
        """The best `limit` categories for the query, best first."""
        idf = self.idf.get(site_id, {})
        read = self.read_query(site_id, query)
        # The first words naming the product, when the tree does not know them, may be misspelt by a letter
        # ("geladera frost free", "zapatila"); later unknown words are mostly brands.
        first_known = next(
            (i for i, place in enumerate(read) if place.product and any(term in idf for term in place.terms)),
            len(read),
        )
        read = [
            Place(
                tuple(known for term in place.terms for known in self.spelled_like(site_id, term)),
                place.weight * TYPO_FACTOR,
                True,
            )
            if place.product and index < first_known
            else place
            for index, place in enumerate(read)
        ]
        places = [place for place in read if any(term in idf for term in place.terms)]
        if not places:  # nothing the tree knows: MercadoLibre's catch-all, unless there is no word at all
            return [Prediction(self.unclassified[site_id], 0.0)] if words_of(query) else []
        known = {term for place in places for term in place.terms if term in idf}
        product = next((set(place.terms) for place in places if place.product), set())  # the first
        named = {term for place in places if place.product for term in place.terms}
        asked = {term for place in read if place.part for term in place.terms}
        sports = known & self.sports[site_id]
        # What the query says the product is for or of ("guantes de boxeo", "soga para saltar").
        said = [
            known_terms
            for place in places
            if not place.product and place.weight >= AFTER_FOR_WEIGHT and not place.part
            if (known_terms := frozenset(term for term in place.terms if term in idf))
        ]
        documents, norms, postings = self.documents[site_id], self.norms[site_id], self.postings[site_id]
        # The candidates are the categories some word naming the product leads to; the other words
        # (describing, what it is for, "repuesto") only weigh among them.
        anchors = [place for place in places if place.product] or places
        scores: dict[int, float] = defaultdict(float)
        for place in anchors + [place for place in places if place not in anchors]:
            best: dict[int, float] = {}  # one of a place's alternatives counts, the best
            for term in place.terms:
                for index, tf in postings.get(term, ()):
                    gain = place.weight * idf[term] * tf * (K1 + 1) / (tf + norms[index])
                    if gain > best.get(index, 0.0):
                        best[index] = gain
            for index, gain in best.items():
                if place in anchors or index in scores:
                    scores[index] += gain
        scored = []
        for index, score in scores.items():
            document = documents[index]
            if document.part_kinds:
                named_part = bool(document.part_words & product)
                # "repuesto ..." says which kind of part; "cargador de celular" is clear without it.
                wanted = document.part_kinds & asked if asked else named_part and document.hosts & known
                if not wanted:
                    score *= NAMED_PART_FACTOR if named_part else ACCESSORY_FACTOR
            if not document.heads & named:
                score *= HEADLESS_FACTOR
            audience = document.audience | document.sportswear
            if audience and not audience & known:
                score *= AUDIENCE_FACTOR
            # The sport is named ("Fútbol Americano": both words), or what its leaf is of ("de Bicicleta");
            # when the query names a sport, what is not of it counts less.
            nouns, qualifiers, of = document.sport or (frozenset(),) * 3
            unnamed = nouns and not ((nouns & known and qualifiers <= known) or of & known)
            if unnamed or (sports and not document.of_sport & sports):
                score *= SPORT_FACTOR
            if document.whole_name and document.whole_name <= known:
                score *= WHOLE_NAME_FACTOR
            if document.catch_all:
                score *= CATCH_ALL_FACTOR
            if document.purpose and not document.purpose & known:
                score *= PURPOSE_FACTOR
            if document.kind and not document.kind & known:
                score *= KIND_FACTOR
            unexplained = sum(1 for level in document.levels if not level & known)
            score *= UNSAID_FACTOR ** sum(1 for terms in said if not terms & self.terms[site_id][index])
            score *= UNEXPLAINED_FACTOR**unexplained * (1 + PRIOR_WEIGHT * document.prior)
            scored.append((-score, len(document.category.path), int(document.category.id[3:]), document))
        scored.sort(key=lambda entry: entry[:3])
        return [Prediction(entry[3].category, -entry[0]) for entry in scored[:limit]]

    def predict(self, site_id: str, query: str, limit: int = DEFAULT_LIMIT) -> list[Prediction]:
        """MercadoLibre's answer: the most likely first, and only the predictions that come close."""
        ranked = self.rank(site_id, query, limit)
        return [prediction for prediction in ranked if prediction.score >= CONTENDER_SHARE * ranked[0].score]

    def domain_discovery(self, site_id: str, query: str, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
        """The `/sites/{SITE}/domain_discovery/search` response."""
        return [
            {
                "domain_id": prediction.category.domain_id,
                "domain_name": prediction.category.domain_name,
                "category_id": prediction.category.id,
                "category_name": prediction.category.name,
                "attributes": recognised_attributes(prediction.category.domain_id, query),
            }
            for prediction in self.predict(site_id, query, limit)
        ]
