"""Production cost per listing: the recorded usage of the production adapters x the configured prices.
`python -m bench.cost [--products 6]`

The content step's listing writer (Gemini, `GeminiWriter` as shipped) and the background remover
(PhotoRoom, `PhotoRoomRemover` as shipped) run against local servers that speak their wire formats,
on the 12 MP sample products. The Gemini stand-in counts the tokens of each request the adapter really
sends by Gemini's documented rules (258 per 768 px image tile, about 4 characters a text token) and
answers with the local writer's listing for the same photos, so answers have a real listing's length;
thinking tokens are not modelled (see the report). The adapter turns that into the usage the listing
version records; cost = recorded tokens x gemini.py's price table for the model (today's price) +
PhotoRoom calls x PHOTOROOM_PRICE_USD, read from the prod stage of .chalice/config.json.
Baseline in the same run: the same calls with every photo sent at full resolution.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from PIL import Image
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from bench.eval_listings import SandboxCategories
from bench.pipeline_load import PRODUCTS, SHOTS, phone_photo
from bench.report import write_section
from bench.stats import ListingUsage, Prices, image_tokens, listing_cost, load_average, ratio, text_tokens
from infra.local.environment import stage_environment

FULL_PHOTO = (4000, 3000)
MAIN_PICTURE = (1200, 1200)


@dataclass
class GeminiStandIn:
    """Speaks `generateContent`; answers from `answers[call]` and counts tokens as Gemini would."""

    answers: dict[str, Any] = field(default_factory=dict)
    images: list[tuple[int, int]] = field(default_factory=list)  # every image it was sent, this product
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = json.loads(Request(environ).get_data())
        schema = json.dumps(body.get("generationConfig", {}))
        call = "read" if '"specs"' in schema else "fill_attributes" if '"attributes"' in schema else "write"
        texts = [p["text"] for p in body.get("systemInstruction", {}).get("parts", []) if "text" in p]
        prompt = 0
        for content in body["contents"]:
            for part in content["parts"]:
                if "text" in part:
                    texts.append(part["text"])
                inline = part.get("inlineData") or part.get("inline_data")
                if inline:
                    with Image.open(io.BytesIO(base64.urlsafe_b64decode(inline["data"]))) as image:
                        self.images.append(image.size)
                        prompt += image_tokens(*image.size)
        prompt += sum(text_tokens(t) for t in texts)
        answer = json.dumps(self.answers[call], ensure_ascii=False)
        payload = {
            "candidates": [
                {"content": {"parts": [{"text": answer}], "role": "model"}, "finishReason": "STOP"}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": text_tokens(answer),
                "totalTokenCount": prompt + text_tokens(answer),
            },
            "modelVersion": environ["PATH_INFO"].rsplit("/", 1)[-1].split(":")[0],
        }
        return Response(json.dumps(payload), content_type="application/json")(environ, start_response)


@dataclass
class PhotoRoomStandIn:
    """Speaks v1 `segment`: the photo back as a cutout on transparency; counts the calls."""

    calls: int = 0
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.calls += 1
        with Image.open(request.files["image_file"].stream) as photo:
            cutout = photo.convert("RGBA")
        out = io.BytesIO()
        cutout.save(out, format="PNG", compress_level=1)
        headers = {"x-uncertainty-score": "0.1"}
        return Response(out.getvalue(), headers=headers, content_type="image/png")(environ, start_response)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def configured_prices(model: str) -> Prices:
    """The model's price today (gemini.py's table) and the prod stage's PHOTOROOM_PRICE_USD."""
    from chalicelib.providers import gemini

    env = stage_environment("prod")
    rate = gemini.price(model)
    return Prices(
        input_per_mtok=rate.input_per_mtok,
        output_per_mtok=rate.output_per_mtok,
        photoroom_per_call=float(env["PHOTOROOM_PRICE_USD"]),
    )


def _fact_answer(fact: dict[str, Any] | None) -> dict[str, Any] | None:
    if not fact:
        return None
    return {k: fact[k] for k in ("value", "unit", "source", "confidence")}


def local_answers(draft: Any) -> dict[str, Any]:
    """The local writer's listing in Gemini's answer schemas."""
    facts = asdict(draft.facts)
    read: dict[str, Any] = {
        name: _fact_answer(facts[name]) for name in ("brand", "model", "product", "condition", "colour")
    }
    read["specs"] = [{"name": n, **(_fact_answer(f) or {})} for n, f in facts["specs"].items()]
    read["packaging_text"] = facts["packaging_text"]
    attributes = [
        {k: a.get(k) for k in ("id", "value_id", "value_name", "source", "confidence")}
        for a in draft.attributes
    ]
    return {
        "read": read,
        "fill_attributes": {"attributes": attributes},
        "write": {"title": draft.title, "description": draft.description},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=len(PRODUCTS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load = load_average()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # a log line per Gemini call is noise here
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from chalicelib.content import MAX_PHOTOS, READ_SIDE
    from chalicelib.drafts import compose_listing
    from chalicelib.imaging import compose_main_picture, full_decode
    from chalicelib.marketplace.mercadolibre import MercadoLibreClient
    from chalicelib.providers.gemini import GeminiWriter, model_id
    from chalicelib.providers.listing import Photo
    from chalicelib.providers.local_writer import LocalWriter
    from chalicelib.providers.photoroom import PhotoRoomRemover
    from infra.local.mercadolibre.server import create_app
    from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState

    gemini, photoroom = GeminiStandIn(), PhotoRoomStandIn()
    rows: list[tuple[str, ListingUsage, ListingUsage, float]] = []
    with (
        serving(gemini) as gemini_url,
        serving(photoroom) as photoroom_url,
        serving(create_app(SandboxState())) as sandbox,
    ):
        os.environ.update(
            GEMINI_API_KEY="bench-local-stand-in",
            GEMINI_BASE_URL=gemini_url,
            GEMINI_RETRY_ATTEMPTS="1",
        )
        client = MercadoLibreClient(sandbox, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "http://127.0.0.1/x")
        categories = SandboxCategories(client)
        remover = PhotoRoomRemover(api_key="bench-local-stand-in", base_url=photoroom_url)
        for folder, prompt in PRODUCTS[: args.products]:
            shots = [phone_photo(folder, shot) for shot in SHOTS]
            calls_before = photoroom.calls
            cutout = remover.cutout(full_decode(shots[0]))
            main_picture = compose_main_picture(cutout.image)
            main_cutout = full_decode(main_picture, READ_SIDE)
            photos = [
                Photo(f"{folder}-{n}", full_decode(s, READ_SIDE), n == 0, main_cutout if n == 0 else None)
                for n, s in enumerate(shots[:MAX_PHOTOS])
            ]
            local = compose_listing(LocalWriter(), categories, prompt, photos, "MLA")
            gemini.answers, gemini.images = local_answers(local), []
            draft = compose_listing(GeminiWriter(), categories, prompt, photos, "MLA")
            usage = draft.usage  # exactly what the listing version records
            calls = photoroom.calls - calls_before
            recorded = ListingUsage(folder, usage.input_tokens, usage.output_tokens, calls)
            # Baseline: the same requests with each photo at full size (the cutout at the main picture's).
            extra = sum(
                image_tokens(*(MAIN_PICTURE if w == h else FULL_PHOTO)) - image_tokens(w, h)
                for w, h in gemini.images
            )
            naive = ListingUsage(folder, usage.input_tokens + extra, usage.output_tokens, calls)
            rows.append((f"{folder} ({prompt})", recorded, naive, usage.cost_usd))
    prices = configured_prices(model_id())
    body = report(load, model_id(), prices, rows)
    print(body)
    if not args.no_write:
        write_section("Production cost per listing", body)


def report(
    load: str, model: str, prices: Prices, rows: list[tuple[str, ListingUsage, ListingUsage, float]]
) -> str:
    lines, total, total_naive = [], 0.0, 0.0
    for name, usage, naive, recorded_cost in rows:
        cost, naive_cost = listing_cost(usage, prices), listing_cost(naive, prices)
        total += cost["total"]
        total_naive += naive_cost["total"]
        lines.append(
            f"| {name} | {usage.input_tokens:,} | {usage.output_tokens:,} | ${cost['gemini']:.5f} "
            f"(recorded ${recorded_cost:.5f}) | {usage.photoroom_calls} | ${cost['photoroom']:.3f} | "
            f"**${cost['total']:.4f}** | {naive.input_tokens:,}: ${naive_cost['total']:.4f} "
            f"({ratio(naive_cost['total'], cost['total'])}) |"
        )
    count = len(rows)
    thinking = 1000 * prices.output_per_mtok / 1_000_000 * 3
    return (
        f"Load average at start: {load}.\n\n"
        "**Computed, not billed**: recorded token counts x configured prices. The production adapters "
        "(`GeminiWriter`, `PhotoRoomRemover`, as shipped) ran against local servers speaking Gemini's "
        "`generateContent` and PhotoRoom's v1 `segment` wire formats, on the 12 MP sample products "
        f"(4 photos to the writer at {1024} px, as the content step sends them). The Gemini stand-in "
        "counts each request's input tokens by Gemini's documented rules (258 tokens per 768x768 image "
        "tile, ~4 characters per text token) and answers with the local writer's listing for the same "
        "photos (3 calls: read, fill the sheet, write); the `usage` the adapter records on the listing "
        "version is what is priced here.\n\n"
        f"Prices (prod stage configuration): {model} ${prices.input_per_mtok:.2f} / "
        f"${prices.output_per_mtok:.2f} per million input / output tokens, PhotoRoom "
        f"${prices.photoroom_per_call:.3f} per call (`PHOTOROOM_PRICE_USD`). Not modelled: "
        f"Gemini 2.5's thinking tokens, billed as output (unbounded by default; every 1,000 per call "
        f"adds ${thinking:.4f} to a listing), retries, and a PhotoRoom fallback to the local remover "
        "(which costs nothing).\n\n"
        "| product | input tokens | output tokens | Gemini | PhotoRoom calls | PhotoRoom | per listing "
        "| baseline: full-resolution photos (input tokens: cost, ratio) |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
        f"**Total for {count} listings: ${total:.4f}, ${total / count:.4f} per listing** (baseline "
        f"${total_naive:.4f}, {ratio(total_naive, total)}). With the embedded local providers the "
        "recorded usage is zero tokens and no calls: $0."
    )


if __name__ == "__main__":
    main()
