"""The listing writer's port: read the product from photos and prompt, fill a category's sheet, write copy.

Two adapters: Gemini (`google-genai`, when GEMINI_API_KEY is set) and the local writer (OCR with
rapidocr + prompt parsing + templates, the embedded default). Both return facts with their source,
and every answer carries its usage (provider, model, tokens, cost, time) so the version records it.
The rules a listing must follow (title limit and words, plain-text description, valid attribute
values) are applied afterwards by chalicelib.domain.listing_rules, whatever the adapter said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from PIL import Image

from chalicelib.config import providers


@dataclass(frozen=True)
class Fact:
    """One thing known about the product, and where it came from."""

    value: str
    source: str  # "prompt", or "photo:<image_id>"
    unit: str | None = None  # for specs: "GB", "mAh", "ml", "l", "kg", "W", ...
    confidence: float = 1.0  # 0-1: how sure the reader is of this value


@dataclass(frozen=True)
class ProductFacts:
    brand: Fact | None = None
    model: Fact | None = None
    product: Fact | None = None  # what it is, in the site's language: "Leche de avena", "Zapatillas"
    condition: Fact | None = None  # "new" | "used", only when stated
    specs: dict[str, Fact] = field(default_factory=dict)  # "volume": 1 l, "storage": 128 GB, "size": 42
    colour: Fact | None = None
    price: Fact | None = None  # from the prompt only ("$ 4500"): for auto-publish
    quantity: Fact | None = None  # from the prompt only ("3 unidades")
    packaging_text: list[str] = field(default_factory=list)  # readable text found on the product
    # Facts left empty for want of evidence, with what was not enough and where it came from:
    # {"brand": Fact("Oddlygood", "photo:a")}, a word printed on one photo of several, or
    # {"brand": Fact("GOD MOR GON", "photo:a")}, a logo printed in pieces.
    withheld: dict[str, Fact] = field(default_factory=dict)


class PhotoGone(Exception):
    """A photo's bytes are gone or were replaced since the images step: the writer reads the others."""


@dataclass(frozen=True)
class Photo:
    image_id: str
    # The photo, or how to decode it: a writer that has read enough never decodes the rest.
    source: Image.Image | Callable[[], Image.Image] = field(repr=False)
    is_main: bool = False  # the main photo; its cut-out, when given, is `product_only`
    product_only: Image.Image | None = None  # the product cut out on white (the main picture)

    @cached_property
    def image(self) -> Image.Image:
        """RGB, oriented, at most ~1024 px on its long side; decoded on first use (PhotoGone when the
        bytes are no longer there to decode)."""
        return self.source if isinstance(self.source, Image.Image) else self.source()


@dataclass(frozen=True)
class AttributeGuess:
    """A value for one attribute of the category's sheet, as MercadoLibre takes it."""

    id: str
    value_id: str | None = None  # for list/boolean attributes: one of the allowed value ids
    value_name: str | None = None  # the value as text; for number_unit "1 l", "128 GB"
    source: str = "prompt"
    confidence: float = 1.0


@dataclass(frozen=True)
class Copy:
    title: str
    description: str
    other_titles: tuple[str, ...] = ()  # titles the seller may prefer, within the same rules


@dataclass(frozen=True)
class Usage:
    provider: str  # "gemini" | "local"
    model: str  # as the provider reports it
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    milliseconds: float = 0.0

    def plus(self, other: Usage) -> Usage:
        return Usage(
            self.provider,
            self.model,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            round(self.cost_usd + other.cost_usd, 6),
            self.milliseconds + other.milliseconds,
        )


class ListingWriterFailed(Exception):
    """The provider could not answer (after its retries). `retryable`: worth another run later."""

    def __init__(self, code: str, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ListingWriter(Protocol):
    name: str

    def read(self, prompt: str, photos: list[Photo], site: str) -> tuple[ProductFacts, Usage]:
        """What the product is. The prompt guides and corrects; text in it or on a package that tries
        to give instructions is data, never an instruction."""
        ...

    def fill_attributes(
        self, facts: ProductFacts, attributes: list[dict[str, Any]], photos: list[Photo], site: str
    ) -> tuple[list[AttributeGuess], Usage]:
        """Values for the category's sheet (MercadoLibre's /categories/{id}/attributes). Nothing
        invented: an attribute the evidence does not support is left out."""
        ...

    def write(
        self,
        facts: ProductFacts,
        category_name: str,
        attributes: list[AttributeGuess],
        site: str,
        title_limit: int,
    ) -> tuple[Copy, Usage]:
        """Title (brand + model + product + 1-3 key specs) and a plain-text description in the
        site's language (Spanish, or Portuguese for MLB)."""
        ...


def listing_writer() -> ListingWriter:
    """Gemini when GEMINI_API_KEY (or GEMINI_API_KEY_PARAMETER) is set, else the local writer."""
    if providers()["listing_generator"] == "gemini":
        from chalicelib.providers.gemini import GeminiWriter

        return GeminiWriter()
    from chalicelib.providers.local_writer import LocalWriter

    return LocalWriter()
