"""`make eval`: the local listing writer on real grocery photos, against the MercadoLibre sandbox.

Two sets. The six sample products (photos in tests/data, 3 natural phone shots each, a prompt WITHOUT
the brand): is the brand right, is the category reasonable, are the required attributes filled, does
the title break a rule, does the listing pass the sandbox's `items/validate`. And the labelled set
(bench/data/grocery_labels.json, 43 products of the Grocery Store Dataset, the six included), reported
per split: brand right / empty / wrong, prompt words taken for a brand, category, product type, facts,
and whether the confidence means something: how many listings are green, how many of those are right,
how many wrong listings were green, and a reliability table (confidence bucket -> share right).

The labelled set's photos are read from the dataset (GROCERY_DATASET: a checkout, or a git directory
such as the mirror the tool library fetches); without it only the six samples are measured, and the
report says so. Each listing is written as the pipeline writes it: the main photo and its picture on
white are the images step's choice (chalicelib.images.main_picture), the writer reads the others too.
Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from PIL import Image
from werkzeug.serving import make_server

from bench.report import write_section
from chalicelib.content import READ_SIDE
from chalicelib.domain.confidence import Band, band
from chalicelib.domain.listing_rules import required_ids, title_problems
from chalicelib.domain.quality import Candidate, assess, choose_main, hand_free_tries
from chalicelib.domain.search import fold
from chalicelib.drafts import Draft, compose_listing
from chalicelib.images import main_picture as images_step_main_picture
from chalicelib.imaging import full_decode, measure, reduced_decode
from chalicelib.marketplace.mercadolibre import MercadoLibreClient, MercadoLibreError
from chalicelib.providers.listing import Photo
from chalicelib.providers.local_remover import LocalRemover
from chalicelib.providers.local_writer import LocalWriter
from chalicelib.providers.local_writer.prompt import parse_prompt
from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState
from tests.photos import grocery_photo, upscaled

LABELS = Path(__file__).parent / "data" / "grocery_labels.json"
DATASET = os.environ.get(
    "GROCERY_DATASET",
    str(Path(__file__).resolve().parents[2] / ".mirror" / "marcusklasson+GroceryStoreDataset" / "repo"),
)
SHOTS = ("001", "002", "003")
MAIN_PICTURES = Path(__file__).resolve().parents[1] / ".local" / "eval" / "main-pictures"
REDIRECT = "http://127.0.0.1/eval/callback"
# Confidence buckets of the reliability table: the seller's bands (green above 0.85, yellow 0.70 to
# 0.85 inclusive), red split once more.
BUCKETS: tuple[tuple[str, Callable[[float], bool]], ...] = (
    ("red, under 0.50", lambda c: c < 0.5),
    ("red, 0.50-0.70", lambda c: c >= 0.5 and band(c) is Band.RED),
    ("yellow", lambda c: band(c) is Band.YELLOW),
    ("green", lambda c: band(c) is Band.GREEN),
)


class SandboxCategories:
    """The CategorySource the content step uses, straight from the (sandbox) API, uncached."""

    def __init__(self, client: MercadoLibreClient) -> None:
        self.client = client

    def predict_categories(self, site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        return self.client.predict_category(site, query, limit)

    def category(self, category_id: str) -> dict[str, Any]:
        return self.client.category(category_id)

    def category_attributes(self, category_id: str) -> list[dict[str, Any]]:
        return self.client.category_attributes(category_id)


@dataclass(frozen=True)
class Labelled:
    folder: str  # under dataset/train/ of the Grocery Store Dataset
    prompt: str
    brand: str | None  # None: the product has no brand (loose produce)
    product_type: str
    categories: tuple[str, ...]  # the leaves a reasonable seller accepts
    facts: dict[str, str]  # net content printed on the package: {"volume": "1 l"}
    split: str  # "tuning" | "held-out"
    sample: bool  # one of the six sample products (photos in tests/data)
    typed: bool = False  # the seller typed the brand too (lower case, after the product's words)

    @property
    def name(self) -> str:
        return self.folder.rsplit("/", 1)[-1]

    def with_brand_typed(self) -> Labelled:
        """The same product, the seller's line naming the brand as sellers type it: "jugo de manzana
        tropicana 1 litro"."""
        assert self.brand is not None
        words = self.prompt.split()
        at = len(parse_prompt(self.prompt, "MLA").product)
        prompt = " ".join([*words[:at], self.brand.lower(), *words[at:]])
        return replace(self, prompt=prompt, typed=True)


@dataclass(frozen=True)
class Outcome:
    product: Labelled
    draft: Draft
    brand: str  # "right" | "empty" | "wrong"
    prompt_word_brand: bool
    category: bool
    product_type: bool
    facts_right: int
    facts_wrong: int
    valid: str  # items/validate's answer
    seconds: float

    @property
    def right(self) -> bool:
        """What a green listing promises: brand, product type, category and every filled fact right."""
        brand_right = self.brand == "right" or (self.product.brand is None and self.brand == "empty")
        return brand_right and self.category and self.product_type and not self.facts_wrong

    @property
    def confidence(self) -> float:
        return self.draft.confidence.overall


def labelled_set() -> list[Labelled]:
    return [
        Labelled(
            p["folder"],
            p["prompt"],
            p["brand"],
            p["product_type"],
            tuple(p["categories"]),
            p["facts"],
            p["split"],
            p["sample"],
        )
        for p in json.loads(LABELS.read_text())["products"]
    ]


def dataset_photo(folder: str, shot: str) -> bytes | None:
    """A train-split photo, upscaled 3x as the tests do; None when the dataset is not on this machine."""
    name = folder.rsplit("/", 1)[-1]
    path = f"dataset/train/{folder}/{name}_{shot}.jpg"
    root = Path(DATASET)
    if (root / path).is_file():
        raw = (root / path).read_bytes()
    elif (root / "HEAD").is_file():  # a bare git directory (the tool library's mirror)
        answer = subprocess.run(
            ["git", "--git-dir", str(root), "show", f"HEAD:{path}"], capture_output=True, check=False
        )
        if answer.returncode != 0:
            return None
        raw = answer.stdout
    else:
        return None
    with Image.open(io.BytesIO(raw)) as original:
        return upscaled(original)


def _seller_token(client: MercadoLibreClient, base: str) -> str:
    url = client.authorization_url("MLA", "eval", None)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    answer = requests.post(
        f"{base}/authorization",
        data={**params, "nickname": "EVAL", "site_id": "MLA"},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return client.exchange_code(code).access_token


class Evaluation:
    def __init__(self) -> None:
        self.server = make_server("127.0.0.1", 0, create_app(SandboxState()), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.client = MercadoLibreClient(
            base, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT, auth_base_url=base
        )
        self.token = _seller_token(self.client, base)
        self.writer, self.remover = LocalWriter(), LocalRemover()
        self.categories = SandboxCategories(self.client)

    def close(self) -> None:
        self.server.shutdown()

    def run(self, product: Labelled, shots: list[bytes], main: MainPicture) -> Outcome:
        started = time.perf_counter()
        photos = [
            Photo(
                f"{product.name}-{n}",
                full_decode(shot, READ_SIDE),
                n == main.index,
                full_decode(main.picture, READ_SIDE) if n == main.index else None,
            )
            for n, shot in enumerate(shots)
        ]
        draft = compose_listing(
            self.writer, self.categories, product.prompt, photos, "MLA", main_quality=main.quality
        )
        seconds = time.perf_counter() - started
        found = draft.facts.brand.value if draft.facts.brand else None
        if found is None:
            verdict = "empty"
        elif product.brand is not None and fold(found) == fold(product.brand):
            verdict = "right"
        else:
            verdict = "wrong"
        # A word of the seller's line taken for the brand when it is no part of the brand.
        prompt_words = {fold(w) for w in product.prompt.split()} - set(fold(product.brand or "").split())
        specs = draft.facts.specs
        facts_right = facts_wrong = 0
        for key, expected in product.facts.items():
            fact = specs.get(key)
            if fact is None:
                continue
            if fold(f"{fact.value} {fact.unit or ''}".strip()) == fold(expected):
                facts_right += 1
            else:
                facts_wrong += 1
        return Outcome(
            product,
            draft,
            verdict,
            found is not None and fold(found) in prompt_words,
            draft.category["id"] in product.categories,
            draft.facts.product is not None and fold(product.product_type) in fold(draft.facts.product.value),
            facts_right,
            facts_wrong,
            self._validate(draft, main.picture),
            seconds,
        )

    def _validate(self, draft: Draft, main_picture: bytes) -> str:
        picture = self.client.upload_picture(self.token, main_picture)
        item = {
            "title": draft.title,
            "category_id": draft.category["id"],
            "price": 1500.0,
            "currency_id": "ARS",
            "available_quantity": 5,
            "buying_mode": "buy_it_now",
            "listing_type_id": "gold_special",
            "condition": "new",
            "pictures": [{"id": picture["id"]}],
            "attributes": [
                {k: a[k] for k in ("id", "value_id", "value_name") if a.get(k)} for a in draft.attributes
            ],
        }
        try:
            self.client.validate_item(self.token, item)
            return "yes"
        except MercadoLibreError as error:
            return "no: " + "; ".join(c.code for c in error.causes)

    def required(self, draft: Draft) -> set[str]:
        return set(required_ids(self.categories.category_attributes(draft.category["id"])))


def main() -> None:
    products = labelled_set()
    evaluation = Evaluation()
    outcomes: list[Outcome] = []
    missing: list[str] = []
    hands: dict[str, tuple[str, str]] = {}
    try:
        for product in products:
            if product.sample:
                shots = [grocery_photo(product.name, shot) for shot in SHOTS]
            else:
                found = [dataset_photo(product.folder, shot) for shot in SHOTS]
                if any(shot is None for shot in found):
                    missing.append(product.name)
                    continue
                shots = [shot for shot in found if shot is not None]
            main = images_step_main(evaluation.remover, shots)
            MAIN_PICTURES.mkdir(parents=True, exist_ok=True)
            (MAIN_PICTURES / f"{product.name}.jpg").write_bytes(main.picture)
            print(f"main picture {product.name}: photo _{SHOTS[main.index]}, {main.code}", flush=True)
            hands[product.name] = (product.split, main.code)
            outcomes.append(evaluation.run(product, shots, main))
            print(_row(outcomes[-1]), flush=True)
            if product.brand is not None:
                outcomes.append(evaluation.run(product.with_brand_typed(), shots, main))
                print(_row(outcomes[-1]), flush=True)
        samples = _samples(evaluation, [o for o in outcomes if o.product.sample and not o.product.typed])
    finally:
        evaluation.close()
    body = samples + "\n\n" + _labelled(outcomes, missing) + "\n\n" + _hands(hands)
    write_section("Listing quality (make eval)", body)


@dataclass(frozen=True)
class MainPicture:
    """What the images step hands the content step: which photo is the main one, its picture on
    white and its score."""

    index: int
    picture: bytes
    quality: float
    code: str  # the choice's: NO_HAND when the best-scored photo showed a hand and a tied one did not,
    # MAIN_PHOTO_HAND when the picture keeps a hand, else the code of a photo without one


def images_step_main(remover: LocalRemover, shots: list[bytes]) -> MainPicture:
    """The main picture the images step makes of these shots (its choice, hands avoided)."""
    candidates: list[Candidate] = []
    photos: dict[str, bytes] = {}
    for shot, data in zip(SHOTS, shots, strict=True):
        with Image.open(io.BytesIO(data)) as header:
            size = header.size
        measured = measure(reduced_decode(data), *size)
        candidates.append(Candidate(shot, len(candidates), assess(measured), measured.whole))
        photos[shot] = data
    choice = choose_main(candidates, None)
    assert choice is not None
    tries = hand_free_tries(candidates, choice)
    choice, picture, _ = images_step_main_picture(choice, tries, photos, remover)
    chosen = next(c for c in candidates if c.image_id == choice.image_id)
    return MainPicture(chosen.position, picture, chosen.quality.score, choice.code)


def _hands(hands: dict[str, tuple[str, str]]) -> str:
    """Main pictures with a hand, per split: as the best-scored photo's cut-out, and as chosen now."""
    lines = [
        "| split | products | best-scored photo's cut-out shows a hand | main picture shows a hand | which |",
        "|---|---|---|---|---|",
    ]
    for split in ("held-out", "tuning"):
        codes = {name: code for name, (s, code) in hands.items() if s == split}
        before = sorted(name for name, code in codes.items() if code in ("NO_HAND", "MAIN_PHOTO_HAND"))
        after = sorted(name for name, code in codes.items() if code == "MAIN_PHOTO_HAND")
        lines.append(
            f"| {split} | {len(codes)} | {len(before)} | {len(after)} | "
            f"{', '.join(after) or '-'} (avoided: {', '.join(sorted(set(before) - set(after))) or '-'}) |"
        )
    return (
        "### Main pictures with a hand\n\n"
        "The images step's main picture of each labelled product (local remover), by its hand check "
        "(chalicelib/domain/hands.py: skin-coloured pixels of the cut-out reaching the photo's edge, at "
        "least 2 % of the product). Each picture is in .local/eval/main-pictures/ to look at.\n\n"
        + "\n".join(lines)
    )


def _samples(evaluation: Evaluation, outcomes: list[Outcome]) -> str:
    rows = []
    for o in outcomes:
        required = evaluation.required(o.draft)
        filled = len(required - set(o.draft.missing_required))
        problems = title_problems(o.draft.title, o.draft.category["title_limit"])
        found = o.draft.facts.brand.value if o.draft.facts.brand else "-"
        rows.append(
            f"| {o.product.name} | {o.product.prompt} | {found} {'✓' if o.brand == 'right' else '✗'} | "
            f"{o.draft.category['path']} {'✓' if o.category else '✗'} | {filled}/{len(required)} | "
            f"{o.draft.title} {'✓' if not problems else '✗'} | {o.valid} | {o.confidence:.2f} | "
            f"{o.seconds:.1f} s |"
        )
    total = len(outcomes)
    violations = sum(bool(title_problems(o.draft.title, o.draft.category["title_limit"])) for o in outcomes)
    return (
        "### The six sample products\n\n"
        "The local writer (rapidocr OCR + prompt parsing + templates) on 3 natural phone shots per product "
        "from the Grocery Store Dataset (upscaled 3x), prompts without the brand, categories and "
        "validation from the MercadoLibre sandbox. Targets: brand right for at least 5 of 6, no title-rule "
        "violations, every listing passes `items/validate` with price and quantity supplied.\n\n"
        f"**Brand {sum(o.brand == 'right' for o in outcomes)}/{total}, reasonable category "
        f"{sum(o.category for o in outcomes)}/{total}, title-rule violations {violations}, passes "
        f"items/validate {sum(o.valid == 'yes' for o in outcomes)}/{total}, "
        f"{sum(o.seconds for o in outcomes) / max(1, total):.1f} s per product** (main picture included).\n\n"
        "| product | prompt | brand found | category | required attributes | title | items/validate | "
        "confidence | time |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def _labelled(outcomes: list[Outcome], missing: list[str]) -> str:
    if missing:
        head = (
            f"**Not measured: {len(missing)} products whose photos are not on this machine** (set "
            "GROCERY_DATASET to a checkout of github.com/marcusklasson/GroceryStoreDataset).\n\n"
        )
    else:
        head = ""
    splits = [
        ("held-out", False, "held-out (never tuned on)"),
        ("tuning", False, "tuning (the six samples included)"),
        ("held-out", True, "held-out, brand typed"),
        ("tuning", True, "tuning, brand typed"),
    ]
    summary = [
        "| split | products | brand right / empty / wrong (of branded) | prompt word as brand | no-brand "
        "products left empty | category right | product type right | facts right / wrong | right when "
        "resting on a guess / when not | green | green and right (precision) | wrong but green | "
        "s per product |",
        "|" + "---|" * 13,
    ]
    tables = []
    for split, typed, label in splits:
        chosen = [o for o in outcomes if o.product.split == split and o.product.typed == typed]
        if not chosen:
            continue
        branded = [o for o in chosen if o.product.brand is not None]
        loose = [o for o in chosen if o.product.brand is None]
        green = [o for o in chosen if band(o.confidence) is Band.GREEN]
        right_green = sum(o.right for o in green)
        precision = f"{right_green}/{len(green)} ({right_green / len(green):.0%})" if green else "0/0 (-)"
        summary.append(
            f"| {label} | {len(chosen)} | {sum(o.brand == 'right' for o in branded)} / "
            f"{sum(o.brand == 'empty' for o in branded)} / {sum(o.brand == 'wrong' for o in branded)} "
            f"(of {len(branded)}) | {sum(o.prompt_word_brand for o in chosen)} | "
            f"{sum(o.brand == 'empty' for o in loose)}/{len(loose)} | "
            f"{sum(o.category for o in chosen)}/{len(chosen)} | "
            f"{sum(o.product_type for o in chosen)}/{len(chosen)} | "
            f"{sum(o.facts_right for o in chosen)} / {sum(o.facts_wrong for o in chosen)} | "
            f"{_share([o for o in chosen if o.draft.confidence.rests_on_a_guess])} / "
            f"{_share([o for o in chosen if not o.draft.confidence.rests_on_a_guess])} | {len(green)} | "
            f"{precision} | {len(green) - right_green} | "
            f"{sum(o.seconds for o in chosen) / len(chosen):.1f} |"
        )
        reliability = ["| confidence | listings | right |", "|---|---|---|"]
        for name, within in BUCKETS:
            bucket = [o for o in chosen if within(o.confidence)]
            share = _share(bucket) if bucket else "-"
            reliability.append(f"| {name} | {len(bucket)} | {share} |")
        rows = [
            "| product | prompt | brand found | category | confidence | right |",
            "|---|---|---|---|---|---|",
        ]
        rows += [_row(o) for o in chosen]
        tables.append(f"#### {label}\n\n" + "\n".join(reliability) + "\n\n" + "\n".join(rows))
    return (
        "### The labelled set, per split\n\n"
        "bench/data/grocery_labels.json: Grocery Store Dataset products (train split, photos _001-_003, "
        "upscaled 3x), packaged and loose, each with a seller's hint without the brand. A listing is "
        "*right* when its brand is the printed one (or empty for a product without brand), its category "
        "one a seller accepts, its product type the labelled one and no filled net content contradicts "
        "the package. Each branded product is also run with the brand typed in the seller's line, "
        'lower case, as sellers type it ("jugo de manzana tropicana 1 litro"): that is where green '
        "listings can be earned. Targets (held-out): brand right in at least 6 of 10 branded products, "
        "no prompt word as brand, 0 wrong listings green, green precision at least 95 %.\n\n"
        + head
        + "\n".join(summary)
        + "\n\n"
        + "\n\n".join(tables)
    )


def _share(outcomes: list[Outcome]) -> str:
    """How many of these listings are right."""
    return f"{sum(o.right for o in outcomes)}/{len(outcomes)}"


def _row(o: Outcome) -> str:
    found = o.draft.facts.brand.value if o.draft.facts.brand else "-"
    expected = o.product.brand or "none"
    return (
        f"| {o.product.name} | {o.product.prompt} | {found} ({o.brand}; label {expected}) | "
        f"{o.draft.category['path']} {'✓' if o.category else '✗'} | {o.confidence:.2f} "
        f"{band(o.confidence).value} | {'✓' if o.right else '✗'} |"
    )


if __name__ == "__main__":
    main()
