"""The local listing writer reading real packaging: rapidocr on the Grocery Store Dataset photos.

Three natural shots per product (hand-held or on the shelf, upscaled 3x as tests/photos.py does) and
a prompt that does not name the brand: the brand has to come from the packaging. Oatly's natural
shots show the "NOT MILK" side, with other brands' cartons on the shelf behind; its name is not
readable there, so 5 of the 6 is what honest reading can reach.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.domain.search import fold
from chalicelib.providers.listing import Photo
from chalicelib.providers.local_writer import LocalWriter
from tests.photos import grocery_photo

pytest.importorskip("rapidocr", reason="the local extras (requirements-local.txt) are not installed")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ("001", "002", "003")
PRODUCTS = {  # folder -> (the brand on the carton, a seller's prompt without it)
    "Alpro-Fresh-Soy-Milk": ("Alpro", "leche de soja 1 litro"),
    "Arla-Standard-Milk": ("Arla", "leche entera 1 litro"),
    "Bravo-Orange-Juice": ("Bravo", "jugo de naranja 1 litro"),
    "Oatly-Oat-Milk": ("Oatly", "leche de avena 1 litro"),
    "Tropicana-Apple-Juice": ("Tropicana", "jugo de manzana"),
    "Valio-Vanilla-Yoghurt": ("Valio", "yogur de vainilla 1 kg"),
}


def photos(product: str) -> list[Photo]:
    return [
        Photo(
            f"{product}-{shot}", Image.open(io.BytesIO(grocery_photo(product, shot))).convert("RGB"), i == 0
        )
        for i, shot in enumerate(SHOTS)
    ]


@pytest.fixture(scope="module")
def writer() -> LocalWriter:
    writer = LocalWriter()
    writer.read("", photos("Tropicana-Apple-Juice")[:1], "MLA")  # loads the models once, outside the timings
    return writer


def test_the_brand_is_read_from_the_packaging(writer: LocalWriter) -> None:
    right = []
    for product, (brand, prompt) in PRODUCTS.items():
        shots = photos(product)
        started = time.perf_counter()
        facts, usage = writer.read(prompt, shots, "MLA")
        seconds = time.perf_counter() - started
        found = facts.brand.value if facts.brand else None
        print(
            f"{product:24} brand={found!s:12} confidence={facts.brand.confidence if facts.brand else 0:.2f} "
            f"source={facts.brand.source if facts.brand else '-':30} {seconds:.2f} s for {len(shots)} photos"
        )
        assert usage.provider == "local" and usage.model.startswith("rapidocr-") and usage.cost_usd == 0
        assert usage.milliseconds > 0
        assert facts.product is not None and facts.packaging_text
        if found and fold(found) == fold(brand):
            assert facts.brand is not None and facts.brand.source.startswith("photo:")
            right.append(product)
    print(f"brands right: {len(right)} of {len(PRODUCTS)}")
    assert len(right) >= 5, right


def test_the_packaging_confirms_the_brand_the_seller_typed(writer: LocalWriter) -> None:
    facts, _ = writer.read("jugo de manzana tropicana", photos("Tropicana-Apple-Juice"), "MLA")
    assert facts.brand is not None
    assert (facts.brand.value, facts.brand.source, facts.brand.confidence) == ("Tropicana", "prompt", 0.97)
    typed_only, _ = writer.read("jugo de manzana cepita", photos("Tropicana-Apple-Juice"), "MLA")
    assert typed_only.brand is not None
    assert (typed_only.brand.value, typed_only.brand.confidence) == ("Cepita", 0.8)  # the seller is right


def test_the_cut_out_is_read_instead_of_the_photo(writer: LocalWriter) -> None:
    shelf = photos("Bravo-Orange-Juice")[2]
    blank = Photo(
        shelf.image_id, shelf.image, is_main=True, product_only=Image.new("RGB", shelf.image.size, "white")
    )
    read_shelf, _ = writer.read("jugo de naranja", [shelf], "MLA")
    read_blank, _ = writer.read("jugo de naranja", [blank], "MLA")
    assert read_shelf.packaging_text and read_blank.packaging_text == []


def test_the_bundled_models_run_without_any_download() -> None:
    """A fresh process with every proxy pointing at a closed port: a download attempt would fail."""
    script = textwrap.dedent(
        """
        from PIL import Image, ImageDraw
        from chalicelib.providers.listing import Photo
        from chalicelib.providers.local_writer import LocalWriter
        image = Image.new("RGB", (640, 240), "white")
        ImageDraw.Draw(image).text((40, 80), "OATLY", fill="black", font_size=96)
        facts, usage = LocalWriter().read("", [Photo("p", image, True)], "MLA")
        print(usage.model, facts.packaging_text)
        """
    )
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed, "NO_PROXY": ""}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rapidocr-") and "OATLY" in done.stdout
