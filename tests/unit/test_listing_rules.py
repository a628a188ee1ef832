"""The listing rules, whoever writes the listing: titles, descriptions, attribute values, confidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from chalicelib.domain.category_fit import belongs, names_the_product
from chalicelib.domain.confidence import (
    RED_BELOW,
    Band,
    Confidence,
    after_seller_edit,
    band,
    category_confidence,
    listing_confidence,
)
from chalicelib.domain.listing_rules import (
    description_problems,
    normalise_value,
    required_ids,
    tidy_description,
    tidy_title,
    title_problems,
)
from chalicelib.drafts import _category, compose_listing
from chalicelib.providers.listing import AttributeGuess, Copy, Fact, Photo, ProductFacts, Usage
from chalicelib.providers.local_writer import LocalWriter

SHEETS = Path(__file__).parents[2] / "infra" / "local" / "mercadolibre" / "data"


def phone_sheet() -> list[dict]:  # type: ignore[type-arg]
    path = next(SHEETS.rglob("MLA1055*attributes*.json"))
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("raw", "names", "expected"),
    [
        ("Leche de avena Oatly 1 L NUEVO envío gratis", ["Oatly"], "Leche de avena Oatly 1 L"),
        (
            "OFERTA!! ZAPATILLAS NIKE AIR MAX 90 TALLE 42",
            ["Nike", "Air Max 90"],
            "Zapatillas Nike Air Max 90 talle 42",
        ),
        (
            "Celular Samsung Galaxy A54 128GB $ 250.000",
            ["Samsung", "Galaxy A54"],
            "Celular Samsung Galaxy A54 128GB",
        ),
        ("Termo Stanley Classic 1 L Verde", ["Stanley", "Classic"], "Termo Stanley Classic 1 L verde"),
    ],
)
def test_titles_lose_condition_price_shipping_promotion_and_shouting(
    raw: str, names: list[str], expected: str
) -> None:
    assert tidy_title(raw, names=names) == expected
    assert title_problems(tidy_title(raw, names=names)) == []


@pytest.mark.parametrize(
    ("raw", "names", "expected"),
    [
        # Title Case is English: Spanish and Portuguese write a title as a sentence.
        ("Valio Yogur De Vainilla 1 Kg", ["Valio"], "Valio yogur de vainilla 1 kg"),
        ("Iogurte De Baunilha Valio 1 Kg", ["Valio"], "Iogurte de baunilha Valio 1 kg"),
        # Brands and models keep their spelling, short capitals ("TV") and codes stay as written.
        ("iPhone 15 Funda De Silicona Transparente", ["iPhone"], "iPhone 15 funda de silicona transparente"),
        ("Smart TV Samsung 50 Pulgadas 4K UHD", ["Samsung"], "Smart TV Samsung 50 pulgadas 4K UHD"),
        # A title already written as a sentence is left as it is.
        ("Yerba mate Playadito 1 kg", ["Playadito"], "Yerba mate Playadito 1 kg"),
        ("Zapatillas Nike Revolution 7", ["Nike", "Revolution 7"], "Zapatillas Nike Revolution 7"),
    ],
)
def test_titles_are_written_as_a_sentence_with_names_as_spelled(
    raw: str, names: list[str], expected: str
) -> None:
    assert tidy_title(raw, names=names) == expected


def test_a_title_is_cut_at_a_word_within_the_categorys_limit() -> None:
    raw = "Auriculares Bluetooth Inalambricos Jbl Tune 510bt Negro Con Microfono"
    title = tidy_title(raw, 40, names=["JBL", "Tune 510BT"])
    assert len(title) <= 40 and title == "Auriculares bluetooth inalambricos JBL"


def test_a_sellers_title_problems_are_named() -> None:
    codes = {p.code for p in title_problems("ZAPATILLAS NIKE NUEVAS CON ENVIO GRATIS " + "X" * 40, 60)}
    assert codes == {"TITLE_TOO_LONG", "TITLE_FORBIDDEN_WORDS", "TITLE_ALL_CAPS"}
    [too_long] = [p for p in title_problems("x" * 70, 60) if p.code == "TITLE_TOO_LONG"]
    assert too_long.params == {"limit": 60, "actual": 70}


def test_descriptions_are_plain_text_without_contacts_links_or_prices() -> None:
    raw = (
        "<b>Leche de avena</b>\n\n\nLlamanos al +54 11 5555-1234 o escribí a ventas@tienda.com\n"
        "Ver www.tienda.com\nPrecio $ 4.500"
    )
    tidy = tidy_description(raw)
    assert (
        "<" not in tidy
        and "@" not in tidy
        and "www" not in tidy
        and "5555" not in tidy
        and "4.500" not in tidy
    )
    assert "\n\n\n" not in tidy and tidy.startswith("Leche de avena")
    assert description_problems(tidy) == []
    assert {p.code for p in description_problems(raw)} == {
        "DESCRIPTION_HTML",
        "DESCRIPTION_CONTACT",
        "DESCRIPTION_PRICE",
    }


def test_list_values_come_from_the_allowed_list_by_id_or_name() -> None:
    definition = {
        "id": "COLOR",
        "name": "Color",
        "value_type": "list",
        "values": [{"id": "52049", "name": "Negro"}, {"id": "52055", "name": "Blanco"}],
    }
    assert normalise_value(definition, "52049", None)[:2] == ("52049", "Negro")
    assert normalise_value(definition, None, "NEGRO")[:2] == ("52049", "Negro")
    problem = normalise_value(definition, None, "Fucsia")[2]
    assert problem is not None and problem.code == "ATTRIBUTE_VALUE_NOT_ALLOWED"


def test_numbers_need_a_number_and_an_allowed_unit() -> None:
    definition = {
        "id": "CAPACITY",
        "name": "Capacidad",
        "value_type": "number_unit",
        "allowed_units": [{"id": "ml", "name": "ml"}, {"id": "L", "name": "L"}],
        "default_unit": "ml",
    }
    assert normalise_value(definition, None, "1,5 l")[:2] == (None, "1.5 L")
    assert normalise_value(definition, None, "500")[:2] == (None, "500 ml")
    assert normalise_value(definition, None, "mucho")[2].code == "ATTRIBUTE_NOT_A_NUMBER"  # type: ignore[union-attr]
    assert normalise_value(definition, None, "2 kg")[2].code == "ATTRIBUTE_UNIT_NOT_ALLOWED"  # type: ignore[union-attr]


def test_required_attributes_skip_hidden_and_read_only_ones() -> None:
    schema = [
        {"id": "BRAND", "tags": {"required": True}},
        {"id": "MODEL", "tags": {"catalog_required": True}},
        {"id": "ITEM_CONDITION", "tags": {"required": True, "hidden": True}},
        {"id": "GTIN", "tags": {"read_only": True, "required": True}},
    ]
    assert required_ids(schema) == ["BRAND"]
    assert isinstance(required_ids(phone_sheet()), list)


def test_confidence_says_what_is_missing_and_is_honest_about_templates() -> None:
    low = listing_confidence(
        category=0.65,
        required=["BRAND", "MODEL", "COLOR"],
        filled={"BRAND"},
        title_problems=0,
        title_has_brand=True,
        description_problems=0,
        templated_description=True,
        main_image_quality=0.9,
    )
    reasons = {r.code: r for r in low.reasons}
    assert reasons["REQUIRED_ATTRIBUTES_MISSING"].message == "2 required attribute(s) missing: MODEL, COLOR"
    assert "CATEGORY_UNSURE" in reasons and "DESCRIPTION_TEMPLATE" in reasons
    high = listing_confidence(
        category=0.9,
        required=["BRAND"],
        filled={"BRAND"},
        title_problems=0,
        title_has_brand=True,
        description_problems=0,
        templated_description=False,
        main_image_quality=0.95,
    )
    assert high.overall > 0.85 > low.overall
    assert set(high.parts) == {"category", "attributes", "title", "description", "main_image"}


def test_a_rival_from_another_domain_makes_the_category_one_to_check() -> None:
    assert category_confidence(named=True, rival=False) == 0.9
    assert category_confidence(named=True, rival=True) < RED_BELOW
    assert category_confidence(named=False, rival=True) < category_confidence(named=False, rival=False)
    torn = listing_confidence(
        category=category_confidence(named=True, rival=True),
        required=[],
        filled=set(),
        title_problems=0,
        title_has_brand=True,
        description_problems=0,
        templated_description=False,
        main_image_quality=0.9,
    )
    assert [r.code for r in torn.reasons] == ["CATEGORY_UNSURE"]


# The predicted categories: name, domain and ancestors.
PREDICTED = {
    "MLA1271": ("Perfumes", "MLA-PERFUMES", [("MLA1246", "Belleza y Cuidado Personal")]),
    "MLA456032": (
        "Perfumes",
        "MLA-ESOTERIC_PERFUMES",
        [("MLA1953", "Otras categorías"), ("MLA5", "Esoterismo")],
    ),
    "MLA6000": ("Sets de Perfumes", "MLA-PERFUMES", [("MLA1246", "Belleza y Cuidado Personal")]),
}


class Answers:
    """MercadoLibre's categories as the content step sees them, answering a fixed prediction list."""

    def __init__(self, *category_ids: str) -> None:
        self.category_ids = category_ids

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        return [
            {
                "domain_id": PREDICTED[id_][1],
                "category_id": id_,
                "category_name": PREDICTED[id_][0],
            }
            for id_ in self.category_ids[:limit]
        ]

    def category(self, category_id: str) -> dict[str, Any]:
        name, _, ancestors = PREDICTED[category_id]
        path = [{"id": id_, "name": ancestor} for id_, ancestor in ancestors] + [
            {"id": category_id, "name": name}
        ]
        return {
            "id": category_id,
            "name": name,
            "path_from_root": path,
            "settings": {"listing_allowed": True},
        }

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]:
        return []


@pytest.mark.parametrize(
    ("answer", "sure"),
    [
        (Answers("MLA1271"), True),  # one prediction: MercadoLibre is sure
        (Answers("MLA1271", "MLA6000"), True),  # the next one is the same domain
        (Answers("MLA1271", "MLA456032"), False),  # torn between two domains
    ],
)
def test_the_content_step_is_less_sure_of_a_category_when_the_top_two_disagree(
    answer: Answers, sure: bool
) -> None:
    facts = ProductFacts(product=Fact("Perfume", "prompt"), brand=Fact("Carolina Herrera", "prompt"))

    chosen, alternatives, score, fits = _category(answer, facts, "perfume importado mujer", "MLA")

    assert chosen["id"] == "MLA1271"
    assert [a["id"] for a in alternatives] == list(answer.category_ids[1:])
    assert score == category_confidence(named=True, rival=not sure)
    assert (score >= RED_BELOW) is sure
    assert fits


def _scored(**evidence: object) -> Confidence:
    base: dict[str, object] = {
        "category": 0.9,
        "required": ["BRAND"],
        "filled": {"BRAND"},
        "title_problems": 0,
        "title_has_brand": True,
        "description_problems": 0,
        "templated_description": False,
        "main_image_quality": 0.95,
    }
    return listing_confidence(**{**base, **evidence})  # type: ignore[arg-type]


def test_a_listing_resting_on_a_guess_is_never_green_whatever_else_it_has() -> None:
    sure = _scored(brand=("Tropicana", 0.97, True))
    assert band(sure.overall) is Band.GREEN and not sure.rests_on_a_guess
    read = _scored(brand=("Tropicana", 0.75, False))  # read by OCR alone, every other part perfect
    assert band(read.overall) is Band.YELLOW and read.rests_on_a_guess
    assert [(r.code, r.params) for r in read.reasons] == [("BRAND_UNSURE", {"brand": "Tropicana"})]
    typed = _scored(brand=("Cepita", 0.8, True))  # the seller's unmarked word, not on the photos
    assert band(typed.overall) is Band.YELLOW and typed.rests_on_a_guess
    assert [(r.code, r.params) for r in typed.reasons] == [("BRAND_NOT_ON_PHOTOS", {"brand": "Cepita"})]
    assert "marca Cepita" in typed.reasons[0].message
    disputed = _scored(brand=("Tropicana", 0.97, True), category=category_confidence(named=True, rival=True))
    assert band(disputed.overall) is not Band.GREEN and disputed.rests_on_a_guess
    # Without the cap both would have been green: the cap is what keeps them out.
    assert read.parts == typed.parts == sure.parts


def test_a_word_on_one_photo_only_is_said_and_the_brand_asked_for() -> None:
    one_photo = _scored(title_has_brand=False, brand_withheld="Oddlygood")
    assert [(r.code, r.params) for r in one_photo.reasons] == [("BRAND_NOT_LEGIBLE", {"word": "Oddlygood"})]
    assert not one_photo.rests_on_a_guess  # no brand is no guess: the listing lacks one, and says so


def test_the_seller_saving_the_title_or_the_sheet_has_checked_the_brand() -> None:
    read = _scored(brand=("Tropicana", 0.75, False))
    for edited in ({"title"}, {"attributes"}):
        checked = after_seller_edit(read, edited, [], 1)
        assert not checked.rests_on_a_guess and band(checked.overall) is Band.GREEN
    untouched = after_seller_edit(read, {"description"}, [], 1)
    assert untouched.rests_on_a_guess and band(untouched.overall) is Band.YELLOW


def test_where_the_typed_brand_ends_is_a_guess_until_the_photos_print_the_model() -> None:
    # "jugo de manzana god morgon": "GOD" is printed, "Morgon" (split "MOR" / "GON") is not.
    split = _scored(brand=("God", 0.97, True), model=("Morgon", 0.8))
    assert band(split.overall) is Band.YELLOW and split.rests_on_a_guess
    assert [(r.code, r.params) for r in split.reasons] == [("MODEL_NOT_ON_PHOTOS", {"model": "Morgon"})]
    printed = _scored(brand=("Samsung", 0.97, True), model=("Galaxy A54", 0.97))
    assert band(printed.overall) is Band.GREEN and not printed.rests_on_a_guess


@pytest.mark.parametrize(
    ("leaf", "said", "fits"),
    [
        ("Cremas Depilatorias", "crema agria 300 ml", False),  # a narrower kind nothing said
        ("Cremas", "crema agria 300 ml", True),
        ("Soja Texturizada", "bebida de soja 1 litro", False),
        ("Yogures", "yogur de vainilla 1 kg", True),  # plural and singular alike
        ("Perfumes", "perfume importado mujer", True),
        ("Celulares y Smartphones", "celular samsung galaxy a54", True),  # one of the two things named
        ("Prensas y Picadores de Ajo", "ajo morado 250 g", False),
        ("Otros", "kiwis 1 kg", False),  # a catch-all names nothing
        ("Fresas", "remolachas frescas 1 kg", False),  # alike in letters is not the same word
        # The product's noun must be the leaf's or its parent's: oats are not an oat drink.
        ("Almacén > Cereales y Barras > Avena", "bebida de avena oatly 1 litro", False),
        ("Bebidas > Leche", "leche de avena 1 litro", True),
        ("Accesorios para Celulares > Fundas", "funda para celular", True),
    ],
)
def test_a_category_fits_when_the_evidence_says_every_word_of_what_it_names(
    leaf: str, said: str, fits: bool
) -> None:
    product = said.split(" 1 ")[0]
    assert names_the_product(leaf.split(" > "), [said], product) is fits


FOODS = {
    "MLA1": ("Cremas Depilatorias", "MLA-DEPILATORY_CREAMS", [("MLA1246", "Belleza y Cuidado Personal")]),
    "MLA2": ("Cremas para Manos y Pies", "MLA-HAND_CREAMS", [("MLA1246", "Belleza y Cuidado Personal")]),
    "MLA3": ("Crema", "MLA-CREAMS", [("MLA1403", "Alimentos y Bebidas")]),
}


def test_a_category_that_does_not_name_the_product_is_never_settled() -> None:
    facts = ProductFacts(product=Fact("Crema agria", "prompt"), brand=Fact("Arla", "prompt", confidence=0.97))
    with patch.dict(PREDICTED, FOODS):
        chosen, alternatives, score, fits = _category(Answers("MLA1", "MLA3"), facts, "crema agria", "MLA")
        # The leaf that names it goes first, but MercadoLibre ranked another first: the seller checks.
        assert (chosen["id"], [a["id"] for a in alternatives], fits) == ("MLA3", ["MLA1"], True)
        assert score < RED_BELOW
        chosen, alternatives, score, fits = _category(Answers("MLA1", "MLA2"), facts, "crema agria", "MLA")
        assert (chosen["id"], fits) == ("MLA1", False)
    misfit = _scored(brand=("Arla", 0.97, True), misfit=("Cremas Depilatorias", "Crema agria"))
    assert band(misfit.overall) is not Band.GREEN and misfit.rests_on_a_guess
    assert [(r.code, r.params) for r in misfit.reasons] == [
        ("CATEGORY_NOT_THE_PRODUCT", {"category": "Cremas Depilatorias", "product": "Crema agria"})
    ]


class LineAnswers(Answers):
    """MercadoLibre recognising a product line in the query, as domain_discovery answers an iPhone."""

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        line = [{"id": "LINE", "value_id": "58993", "value_name": "iPhone"}]
        return [{**p, "attributes": line} for p in super().predict_categories(site, query, limit)]


def test_a_product_line_mercadolibre_recognises_is_the_categorys_product() -> None:
    phones = {
        "MLA1055": ("Celulares y Smartphones", "MLA-CELLPHONES", [("MLA1051", "Celulares y Teléfonos")])
    }
    facts = ProductFacts(product=Fact("Iphone", "prompt"))
    with patch.dict(PREDICTED, phones):
        *_, fits = _category(LineAnswers("MLA1055"), facts, "iphone 13 usado", "MLA")
        assert fits
        *_, fits = _category(Answers("MLA1055"), facts, "iphone 13 usado", "MLA")
        assert not fits  # without MercadoLibre naming the line, "iphone" names no phone category


class AlreadyRead:
    """The local writer with its reading done: these facts, as if read from the photos."""

    name = "local"

    def __init__(self, facts: ProductFacts) -> None:
        self.facts, self.local = facts, LocalWriter()

    def read(self, prompt: str, photos: list[Photo], site: str) -> tuple[ProductFacts, Usage]:
        return self.facts, Usage("local", "rules")

    def fill_attributes(self, *args: Any) -> tuple[list[AttributeGuess], Usage]:
        return self.local.fill_attributes(*args)

    def write(self, *args: Any) -> tuple[Copy, Usage]:
        return self.local.write(*args)


def test_a_measure_only_the_photos_give_must_belong_to_the_kind_of_product() -> None:
    noise = Fact("28", "photo:a", '"', 0.75)  # an inch size read twice off a yoghurt's carton
    facts = ProductFacts(
        product=Fact("Yogur de vainilla", "prompt"),
        specs={"screen": noise, "weight": Fact("1", "photo:a", "kg", 0.75)},
    )
    yoghurts = {"MLA4": ("Yogures", "MLA-YOGURTS", [("MLA1403", "Alimentos y Bebidas")])}
    with patch.dict(PREDICTED, yoghurts):
        listing = compose_listing(AlreadyRead(facts), Answers("MLA4"), "yogur de vainilla", [], "MLA")
    assert set(listing.facts.specs) == {"weight"}
    assert listing.title == "Yogur de vainilla 1 kg"
    assert belongs("screen", ["Celulares y Teléfonos", "Celulares y Smartphones"])  # a phone has one
