"""The word lists the rules match: the seller's words and the packaging's, as plain data."""


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Joins a product phrase to its complement: "leche de avena", "funda para celular".
JOINERS = word_set("de del da do das dos para con com sin sem of for with en em")
# Words that carry no name: a brand or model is never one of them.
FUNCTION_WORDS = JOINERS | word_set(
    "el la los las lo un una unos unas y e o ou u a al the an and or que se por mi mis"
)
CONDITIONS = {
    **dict.fromkeys(word_set("nuevo nueva nuevos nuevas novo nova novos novas"), "new"),
    **dict.fromkeys(word_set("usado usada usados usadas"), "used"),
}
# Colour words sellers type, Spanish and Portuguese; matched to a sheet's values by their stem.
COLOURS = word_set(
    """
    negro negra blanco blanca rojo roja azul verde amarillo amarilla gris rosa violeta celeste marron
    beige dorado dorada plateado plateada naranja bordo fucsia lila turquesa
    preto preta branco branca vermelho vermelha amarelo amarela cinza roxo roxa marrom dourado dourada
    prateado prateada laranja
    """
)
# Words that describe a product rather than name it: they extend the product phrase, never a brand.
DESCRIPTORS = word_set(
    """
    entera entero descremada descremado semidescremada parcialmente integral natural light original
    clasico clasica tradicional organico organica vegetal sin zero extra premium fresco fresca
    desnatado desnatada semidesnatado inteiro inteira classico organic classic whole skimmed fresh
    agrio agria maduro madura dulce salado salada picante acido acida suave intenso intensa
    azedo azeda doce
    """
)
# Endings of Spanish and Portuguese adjectives ("inalámbricos", "recargable"): part of the product.
ADJECTIVE_ENDINGS = tuple(
    word_set("ico ica icos icas ble bles oso osa osos osas ivo iva ivos ivas ado ada ados adas ido ida idos")
    | word_set("ante antes ente entes")
)

# Generic packaging words (Spanish, Portuguese, English, Swedish): what a product is, its flavour, a
# claim or a certification mark (KRAV, Sweden's organic label); large on a package and never its
# brand. Swedish compounds end in them ("sommarmjölk").
GENERIC_WORDS = DESCRIPTORS | word_set(
    """
    leche jugo zumo bebida bebidas yogur yoghurt yogurt postre queso crema agua cafe avena soja soya
    almendra almendras arroz coco naranja manzana vainilla frutilla fresa durazno limon chocolate
    sabor sabores azucar calcio vitaminas receta contenido neto ingredientes envase litro litros
    producto exprimido nuevo nueva
    leite suco iogurte queijo creme aveia amendoa laranja maca baunilha morango pessego limao acucar
    conteudo liquido embalagem produto novo nova
    milk juice drink drinks cream water coffee oat oats soy almond rice coconut orange apple vanilla
    strawberry raspberry peach banana lemon flavour flavor sugar free added with without the and
    calcium vitamins pressed new recipe net content ingredients plant based not
    mjolk dryck havre havredryck apelsin vanilj jordgubb jordgubbar hallon ekologisk eko farsk farska
    fett mellanmjolk standardmjolk laktosfri berikad naturell socker utan med och svensk svenska
    sverige originalet fruktdryck filmjolk graddfil bra pris jfr gard gardar fran
    pomelo pomelos mandarina mandarinas arandano arandanos anana pina mango durazno ciruela kiwi
    grapefruit mandarin blueberry pineapple smooth golden mild creamy eco bio
    grapefrukt blabar sommar billigt fraiche kvarg
    krav fairtrade vegan
    """
)
