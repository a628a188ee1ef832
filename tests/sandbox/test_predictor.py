"""The category predictor, held to issue 21: labelled seller queries (tests/sandbox/category_queries*.json)
measured by the bench's own code, the issue's queries in the main branch of their product, parts when
the query asks for them, never an empty answer for a product, and an answer that says how sure it is."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from bench.category_predictor import SPLITS, TOP_1_TARGET, TOP_3_TARGET, load_split, measure
from infra.local.mercadolibre.catalog import load_catalog
from infra.local.mercadolibre.predictor import CategoryPredictor, stem
from infra.local.mercadolibre.server import load_predictor

SMARTWATCHES = {"MLA": ("MLA352679", "MLA399230"), "MLB": ("MLB135384", "MLB399230")}
# Issue 21's queries (and their Portuguese twins), each in the main branch of its product: no spare part,
# accessory, baby, esoteric or brewing-equipment branch, no vinyl sticker.
ISSUE_QUERIES = [
    ("MLA", "iphone 13 usado 128gb", ("MLA1055",)),
    ("MLA", "smartwatch xiaomi", SMARTWATCHES["MLA"]),
    ("MLA", "samsung galaxy a54 negro", ("MLA1055",)),
    ("MLA", "playstation 5", ("MLA438566",)),
    ("MLA", "ventilador de pie 20 pulgadas", ("MLA1645",)),
    ("MLA", "cerveza artesanal lata", ("MLA403656",)),
    ("MLA", "perfume importado mujer", ("MLA1271",)),
    ("MLA", "colchon 2 plazas resortes", ("MLA1612",)),
    ("MLB", "iphone 11 128gb usado", ("MLB1055",)),
    ("MLB", "smartwatch xiaomi", SMARTWATCHES["MLB"]),
    ("MLB", "samsung galaxy a54 preto", ("MLB1055",)),
    ("MLB", "console ps5", ("MLB11172",)),
    ("MLB", "ventilador de coluna 40cm", ("MLB1645",)),
    ("MLB", "cerveja artesanal lata 473ml", ("MLB194799",)),
    ("MLB", "perfume importado feminino", ("MLB6284",)),
    ("MLB", "colchão casal molas", ("MLB33436",)),
]
# The same products when the query names a part or an accessory of them.
PARTS = [
    ("MLA", "helice para ventilador de pie", "MLA417805"),  # Hélices para Ventiladores
    ("MLA", "repuesto pantalla samsung a32", "MLA10675"),  # Repuestos de Celulares > Displays y LCD
    ("MLA", "funda de silicona para celular iphone 13", "MLA5337"),  # Fundas para Celulares
    ("MLA", "joystick ps5 dualsense", "MLA455266"),  # PS5 > Gamepads y Joysticks
    ("MLB", "base para ventilador de coluna", "MLB455710"),  # Bases para Ventiladores de Pé
    ("MLB", "peça tela display samsung a12", "MLB11351"),  # Peças para Celular > Displays e LCD
    ("MLB", "controle ps5 dualsense", "MLB455266"),  # PlayStation 5 > Gamepads e Joysticks
    ("MLA", "bateria para auto 12v 65ah", "MLA2220"),  # Repuestos Autos y Camionetas > Baterías
]


@pytest.fixture(scope="module")
def predictor() -> CategoryPredictor:
    return load_predictor()


def first(predictor: CategoryPredictor, site_id: str, query: str) -> str:
    return predictor.domain_discovery(site_id, query, 3)[0]["category_id"]


def test_every_label_is_a_listable_leaf_of_its_site_with_the_recorded_path() -> None:
    catalog = load_catalog()
    for name in SPLITS:
        for query in load_split(name):
            assert query["acceptable"], query
            for leaf in query["acceptable"]:
                category = catalog.get(leaf["category_id"])
                assert category is not None and category.listing_allowed, query
                assert category.site_id == query["site_id"]
                assert " > ".join(name for _, name in category.path) == leaf["path"]


def test_there_are_200_queries_in_both_languages_and_200_are_held_out() -> None:
    # The issue asks for 200 labelled queries, a quarter held out; each round's fresh held-out split has
    # 200 queries of its own, as many as the issue's whole set, while the earlier ones joined the tuning.
    tuning, held_out = load_split("tuning"), load_split("held-out")
    assert len(tuning) >= 200
    assert len(held_out) >= 200
    for split in (tuning, held_out):
        assert {query["site_id"] for query in split} == {"MLA", "MLB"}
    assert not {q["query"] for q in tuning} & {q["query"] for q in held_out}


# Measured once, on the eighth held-out split (200 queries for products no earlier query names, written
# by a helper that never saw the predictor): 66.5 % top-1, 71.5 % top-3, no empty answer. (The seventh,
# at 7e11d56: 65.5 % / 72.5 %; the sixth, at 5511aec: 75.0 % / 78.5 %.)
HELD_OUT_TOP_1_FLOOR = 0.665
HELD_OUT_TOP_3_FLOOR = 0.715


def test_the_held_out_queries_stay_where_they_were_measured(predictor: CategoryPredictor) -> None:
    figures = measure(predictor, load_split("held-out"))

    assert figures.empty == 0
    assert figures.share(figures.top_1) >= HELD_OUT_TOP_1_FLOOR, figures.misses
    assert figures.share(figures.top_3) >= HELD_OUT_TOP_3_FLOOR, figures.misses


@pytest.mark.xfail(strict=True, reason="issue 21's targets are not met: 66.5 % top-1, 71.5 % top-3 held out")
def test_the_held_out_queries_meet_the_issue_targets(predictor: CategoryPredictor) -> None:
    figures = measure(predictor, load_split("held-out"))

    assert figures.empty == 0
    assert figures.share(figures.top_1) >= TOP_1_TARGET, figures.misses
    assert figures.share(figures.top_3) >= TOP_3_TARGET, figures.misses


def test_the_tuning_queries_stay_where_they_were_tuned(predictor: CategoryPredictor) -> None:
    # 91.7 % / 95.2 % of 1192 when last tuned (about 89.0 % / 92.6 % when the seventh held-out split
    # joined; 93.8 % / 96.7 % of the 992 before it)
    figures = measure(predictor, load_split("tuning"))

    assert figures.empty == 0
    assert figures.share(figures.top_1) >= 0.915, figures.misses
    assert figures.share(figures.top_3) >= 0.95, figures.misses


@pytest.mark.parametrize(("site_id", "query", "main"), ISSUE_QUERIES)
def test_the_issue_queries_land_in_the_main_branch_of_their_product(
    predictor: CategoryPredictor, site_id: str, query: str, main: tuple[str, ...]
) -> None:
    assert first(predictor, site_id, query) in main


@pytest.mark.parametrize(("site_id", "query", "part"), PARTS)
def test_a_part_or_an_accessory_wins_when_the_query_names_it(
    predictor: CategoryPredictor, site_id: str, query: str, part: str
) -> None:
    assert first(predictor, site_id, query) == part


@pytest.mark.parametrize("describing", ["negro", "usado", "128gb", "azul 6 pulgadas", "reacondicionado"])
def test_colours_sizes_and_conditions_do_not_move_the_product(
    predictor: CategoryPredictor, describing: str
) -> None:
    assert first(predictor, "MLA", f"celular motorola g54 {describing}") == "MLA1055"


@pytest.mark.parametrize(
    ("site_id", "query", "expected"),
    [
        ("MLA", "celu motorola e13", "Celulares y Smartphones"),  # a seller's abbreviation
        ("MLA", "auris inalambricos", "Auriculares"),
        ("MLA", "zapatila nike", "Zapatillas"),  # one letter off
        ("MLA", "heladeira gafa", "Heladeras"),
        ("MLB", "xiaomi", "Celulares e Smartphones"),  # one of MercadoLibre's top brands of phones
        ("MLB", "geladera brastemp", "Geladeiras"),
        ("MLB", "geladera frost free", "Geladeiras"),  # misspelt, before words the tree knows
        ("MLA", "moto g84 256gb", "Celulares y Smartphones"),  # a model of a line: not a motorbike
        ("MLA", "licuadora oster", "Licuadoras"),  # the appliance, not the toy
        ("MLA", "amoladora angular 115mm 900w", "Amoladoras"),  # the electric one, not the pneumatic
        ("MLB", "micro-ondas electrolux 31 litros", "Microondas"),  # written as the tree writes it
        ("MLB", "capinha iphone 13 transparente", "Capas para Celular"),  # a diminutive
        ("MLB", "chocolate lacta ao leite 90g", "Chocolates"),  # a colour's name, but first: the product
        ("MLB", "jogo de soquetes 1/2", "Soquetes"),  # a set of sockets
    ],
)
def test_a_query_naming_a_product_is_never_answered_empty(
    predictor: CategoryPredictor, site_id: str, query: str, expected: str
) -> None:
    answer = predictor.domain_discovery(site_id, query, 3)

    assert answer and answer[0]["category_name"] == expected


@pytest.mark.parametrize(("site_id", "catch_all"), [("MLA", "MLA3530"), ("MLB", "MLB3530")])
def test_a_query_naming_nothing_the_tree_knows_gets_mercadolibre_s_catch_all(
    predictor: CategoryPredictor, site_id: str, catch_all: str
) -> None:
    answer = predictor.domain_discovery(site_id, "zzqx wxyk", 3)

    assert [(p["category_id"], p["domain_id"]) for p in answer] == [
        (catch_all, f"{site_id}-UNCLASSIFIED_PRODUCTS")
    ]


def test_a_sure_answer_stands_alone_and_a_torn_one_lists_its_rival(client: FlaskClient) -> None:
    search = "/sites/MLA/domain_discovery/search"

    sure = client.get(search, query_string={"q": "celular samsung galaxy a54 128gb", "limit": 8}).json
    # A keyboard: for a computer or for music? The query does not say.
    torn = client.get(search, query_string={"q": "teclado mecanico redragon", "limit": 8}).json
    one = client.get(search, query_string={"q": "teclado mecanico redragon", "limit": 1}).json

    assert [p["category_name"] for p in sure] == ["Celulares y Smartphones"]
    assert {p["category_name"] for p in torn[:2]} == {"Teclados Musicales", "Teclados Físicos"}
    assert torn[0]["domain_id"] != torn[1]["domain_id"]
    assert one == torn[:1]


def test_the_answer_names_the_brand_mercadolibre_lists_for_the_domain(predictor: CategoryPredictor) -> None:
    phone = predictor.domain_discovery("MLA", "samsung galaxy a54 negro", 1)[0]
    fan = predictor.domain_discovery("MLA", "ventilador samsung", 1)[0]

    assert phone["attributes"] == [{"id": "BRAND", "value_id": "206", "value_name": "Samsung"}]
    assert fan["attributes"] == []  # MercadoLibre's data lists Samsung for phones only


@pytest.mark.parametrize(
    ("plural", "singular", "portuguese"),
    [
        ("celulares", "celular", False),
        ("colchones", "colchon", False),
        ("smartphones", "smartphone", False),
        ("smartwatches", "smartwatch", False),
        ("whiskies", "whisky", False),
        ("zapatillas", "zapatilla", False),
        ("mates", "mate", False),
        ("colchoes", "colchao", True),
        ("animais", "animal", True),
        ("itens", "item", True),
        ("lencois", "lencol", True),
        ("aneis", "anel", True),  # a short word's -éis
        ("leoes", "leao", True),
    ],
)
def test_plurals_meet_their_singulars(plural: str, singular: str, portuguese: bool) -> None:
    assert stem(plural, portuguese) == stem(singular, portuguese)
