"""The copy: a template title (brand + model + product + up to 3 key specs, written as a sentence) and a
plain-text description in the site's language."""

from __future__ import annotations

from chalicelib.domain.listing_rules import sentence_case
from chalicelib.domain.search import fold
from chalicelib.domain.sites import language_of
from chalicelib.providers.listing import AttributeGuess, Fact, ProductFacts
from chalicelib.providers.local_writer.claims import CLAIMS
from chalicelib.providers.local_writer.words import CONDITIONS, word_set

MAX_TITLE_SPECS = 3
TITLE_SPEC_ORDER = ("size", "storage", "ram", "screen", "volume", "weight", "battery", "power", "length")
PACK_SPECS = ("flavour", "units_per_pack")  # said in the description and the sheet, not in the title

WORDING = {
    "es": {
        "of_brand": "de la marca",
        "model": "modelo",
        "features": "Características principales",
        "box": "Qué incluye",
        "details": "Detalles técnicos",
        "units": ("unidad", "unidades"),
        "colour": "Color",
        "condition": "Condición",
        "new": "Nuevo",
        "used": "Usado",
        "volume": "Volumen",
        "weight": "Peso",
        "storage": "Almacenamiento",
        "ram": "Memoria RAM",
        "battery": "Batería",
        "power": "Potencia",
        "screen": "Pantalla",
        "length": "Largo",
        "size": "Talle",
        "flavour": "Sabor",
        "units_per_pack": "Unidades por pack",
        "organic": "Orgánico",
        "gluten_free": "Sin gluten",
        "lactose_free": "Sin lactosa",
        "sugar_free": "Sin azúcar",
        "BRAND": "Marca",
        "MODEL": "Modelo",
        "LINE": "Línea",
        "COLOR": "Color",
        "MAIN_COLOR": "Color principal",
        "ITEM_CONDITION": "Condición del ítem",
    },
    "pt": {
        "of_brand": "da marca",
        "model": "modelo",
        "features": "Características principais",
        "box": "O que está incluído",
        "details": "Detalhes técnicos",
        "units": ("unidade", "unidades"),
        "colour": "Cor",
        "condition": "Condição",
        "new": "Novo",
        "used": "Usado",
        "volume": "Volume",
        "weight": "Peso",
        "storage": "Armazenamento",
        "ram": "Memória RAM",
        "battery": "Bateria",
        "power": "Potência",
        "screen": "Tela",
        "length": "Comprimento",
        "size": "Tamanho",
        "flavour": "Sabor",
        "units_per_pack": "Unidades por pacote",
        "organic": "Orgânico",
        "gluten_free": "Sem glúten",
        "lactose_free": "Sem lactose",
        "sugar_free": "Sem açúcar",
        "BRAND": "Marca",
        "MODEL": "Modelo",
        "LINE": "Linha",
        "COLOR": "Cor",
        "MAIN_COLOR": "Cor principal",
        "ITEM_CONDITION": "Condição do item",
    },
}
PROMO_WORDS = word_set("envio envios gratis frete oferta ofertas promo promocion promocao descuento desconto")


def compose_titles(facts: ProductFacts, category_name: str, site: str, title_limit: int) -> list[str]:
    """The title, then the others a seller may prefer: the same words with the product first ("Jugo de
    naranja Bravo 1 L", as buyers search), when that is another title."""
    titles = [compose_title(facts, category_name, site, title_limit)]
    product_first = compose_title(facts, category_name, site, title_limit, product_first=True)
    return [*titles, product_first] if product_first != titles[0] else titles


def compose_title(
    facts: ProductFacts, category_name: str, site: str, title_limit: int, product_first: bool = False
) -> str:
    """Brand + model + product + up to 3 key specs (or the product before the names), written as a
    sentence (brand and model as they are spelled, the rest in lower case), within the limit, never a
    word cut.

    Over the limit, specs go first (the least important last), then model words from the end.
    """
    brand = _title_words(facts.brand)
    model = _title_words(facts.model)
    named = {fold(w) for w in brand + model}
    product = [w for w in _words(facts.product) if fold(w) not in named]
    if not (brand or model or product):
        product = category_name.split()
    specs = [_spec_text(key, facts.specs[key], site) for key in TITLE_SPEC_ORDER if key in facts.specs]
    specs = specs[:MAX_TITLE_SPECS]
    while True:
        words = product + brand + model if product_first else brand + model + product
        title = " ".join(sentence_case(words + " ".join(specs).split(), brand + model))
        if len(title) <= title_limit:
            return title
        if specs:
            specs.pop()
        elif model:
            model.pop()
        elif len(product) > 1:
            product.pop()
        elif brand and product:
            brand = []
        else:
            kept: list[str] = []
            for word in title.split():
                if len(" ".join([*kept, word])) > title_limit:
                    break
                kept.append(word)
            return " ".join(kept)


def _words(fact: Fact | None) -> list[str]:
    if fact is None:
        return []
    return [w for w in fact.value.split() if fold(w) not in CONDITIONS and fold(w) not in PROMO_WORDS]


def _title_words(fact: Fact | None) -> list[str]:
    """A brand's or a model's words, as names are written."""
    return [title_word(w) for w in _words(fact)]


def title_word(word: str) -> str:
    if any(c.isdigit() for c in word):
        return word.upper()  # model codes: "A54", "5G"
    if word[1:] != word[1:].lower() and word[1:] != word[1:].upper():
        return word  # written that way on purpose: "ProViva", "iPhone"
    return word.capitalize()


def _spec_text(key: str, fact: Fact, site: str) -> str:
    value = fact.value.replace(".", ",")  # decimal comma in Spanish and Portuguese copy
    if key == "size":
        return f"{WORDING[language_of(site)]['size']} {value}"
    unit = "L" if fact.unit == "l" else fact.unit or ""
    return f"{value}{unit}" if unit == '"' else f"{value} {unit}".strip()


def compose_description(
    facts: ProductFacts,
    category_name: str,
    attributes: list[AttributeGuess],
    names: dict[str, str],
    site: str,
) -> str:
    """Plain-text sections: what it is, key features, what is included (when known), technical details."""
    words = WORDING[language_of(site)]
    product = facts.product.value if facts.product else category_name
    opening = product
    if facts.brand:
        opening += f" {words['of_brand']} {facts.brand.value}"
    if facts.model:
        opening += f", {words['model']} {facts.model.value}"
    sections = [f"{opening}."]
    features = [
        f"- {words[key]}: {_spec_text(key, facts.specs[key], site)}"
        for key in TITLE_SPEC_ORDER
        if key in facts.specs and key != "size"
    ]
    if "size" in facts.specs:
        features.append(f"- {_spec_text('size', facts.specs['size'], site).replace(' ', ': ', 1)}")
    features += [f"- {words[key]}: {facts.specs[key].value}" for key in PACK_SPECS if key in facts.specs]
    features += [f"- {words[key]}" for key in CLAIMS if key in facts.specs]
    if facts.colour:
        features.append(f"- {words['colour']}: {facts.colour.value}")
    if facts.condition:
        features.append(f"- {words['condition']}: {words[facts.condition.value]}")
    if features:
        sections.append("\n".join([f"{words['features']}:", *features]))
    if facts.quantity:
        count = int(facts.quantity.value)
        sections.append(f"{words['box']}:\n- {count} {words['units'][count != 1]}")
    details = [
        f"{names.get(guess.id) or words.get(guess.id)}: {guess.value_name}"
        for guess in attributes
        if guess.value_name and (names.get(guess.id) or guess.id in words)
    ]
    if details:
        sections.append("\n".join([f"{words['details']}:", *details]))
    return "\n\n".join(sections)
