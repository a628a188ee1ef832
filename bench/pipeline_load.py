"""The pipeline under load on the local stack with the local providers. `python -m bench.pipeline_load`

N products x 5 phone-sized photos (12 MP), created through the API, then every photo uploaded at once
through the presigned POSTs; seconds from a product's last upload to its `ready` (the LISTING_READY
event on its timeline), products per minute, and the event runtime's peak memory. Baseline in the same
run: the same products through a runtime with one worker (a sequential pipeline).

Per function (ingest, images, content), the peak memory of a fresh process that runs just that
function on one product's events, as a Lambda container would, next to a process that only imports
the app; and a cProfile top-10 of each step from the same processes.

    python -m bench.pipeline_load [--products 20] [--photos 5] [--workers 4]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cache
from statistics import median
from typing import Any

import requests
from PIL import Image

from bench.report import write_section
from bench.stack import BenchStack, auth, create_product, peak_rss_mb, register, upload
from bench.stats import load_average, percentile, ratio
from infra.local.environment import CHALICE_CONFIG
from tests.photos import GROCERY

SIZE = (4000, 3000)
SHOTS = ("001", "002", "003", "004", "Iconic")
PRODUCTS = [
    ("Alpro-Fresh-Soy-Milk", "leche de soja Alpro 1 litro"),
    ("Arla-Standard-Milk", "leche entera Arla 1 litro"),
    ("Bravo-Orange-Juice", "jugo de naranja Bravo 1 litro"),
    ("Oatly-Oat-Milk", "leche de avena Oatly 1 litro"),
    ("Tropicana-Apple-Juice", "jugo de manzana Tropicana 1 litro"),
    ("Valio-Vanilla-Yoghurt", "yogur de vainilla Valio 1 kg"),
]
READY_WITHIN = 900.0  # seconds for a whole run before we give up
# The timeline's steps in order; the time between two is what the step in between took.
STEPS = [
    ("PHOTOS_RECEIVED", "ingest (last photo checked, images job written)"),
    ("ANALYSING_PHOTOS", "queue hop to images"),
    ("REMOVING_BACKGROUND", "scoring + thumbnails"),
    ("MAIN_PICTURE_READY", "background removal + main picture"),
    ("READING_PRODUCT", "queue hop to content"),
    ("CHOOSING_CATEGORY", "reading photos and prompt (OCR)"),
    ("WRITING_TITLE", "category + technical sheet"),
    ("LISTING_READY", "title, description, confidence, saving"),
]
FUNCTIONS = ("ingest", "images", "content")


@cache
def phone_photo(product: str, shot: str) -> bytes:
    """A real grocery shot made phone-sized: 12 MP, the product on a table, sensor noise, JPEG q90."""
    with Image.open(GROCERY / product / f"{product}_{shot}.jpg") as original:
        square = original.convert("RGB").resize((SIZE[1], SIZE[1]), Image.Resampling.LANCZOS)
    photo = Image.new("RGB", SIZE, (226, 222, 214))
    photo.paste(square, ((SIZE[0] - SIZE[1]) // 2, 0))
    # Sensor noise, as in a phone photo: it is what makes real JPEGs large and slow to decode.
    noise = Image.effect_noise(SIZE, 24).convert("RGB")
    photo = Image.blend(photo, noise, 0.08)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=90)
    return out.getvalue()


def catalogue(count: int, photos: int) -> list[tuple[str, list[bytes]]]:
    chosen = [PRODUCTS[n % len(PRODUCTS)] for n in range(count)]
    return [(prompt, [phone_photo(folder, shot) for shot in SHOTS[:photos]]) for folder, prompt in chosen]


def _at(event_at: str) -> float:
    return datetime.fromisoformat(event_at.split("#", 1)[0]).timestamp()


def run(
    stack: BenchStack, products: list[tuple[str, list[bytes]]], workers: int, name: str
) -> dict[str, Any]:
    """Every photo of every product uploaded at once; back when all are ready (or failed)."""
    events = stack.start_events(workers)
    token = register(stack.api, f"bench-{name}-{os.getpid()}@example.com")
    created = [create_product(stack.api, token, prompt, photos) for prompt, photos in products]
    uploads = [
        (product["product_id"], image["upload"], data)
        for product, (_, photos) in zip(created, products, strict=True)
        for image, data in zip(product["images"], photos, strict=True)
    ]
    last_upload: dict[str, float] = {}
    session = requests.Session()

    def send(item: tuple[str, dict[str, Any], bytes]) -> None:
        upload(session, item[1], item[2])
        last_upload[item[0]] = max(last_upload.get(item[0], 0.0), time.time())

    started = time.time()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, uploads))
    status = _wait_until_done(stack.api, token, len(created))
    details = [
        requests.get(f"{stack.api}/products/{p['product_id']}", headers=auth(token), timeout=30).json()
        for p in created
    ]
    peak = peak_rss_mb(events.process.pid)
    stack.stop_events()
    ready_at = {}
    for detail in details:
        done = [e for e in detail.get("events") or [] if e["code"] == "LISTING_READY"]
        if done:
            ready_at[detail["product_id"]] = _at(done[-1]["at"])
    latencies = [ready_at[p] - last_upload[p] for p in ready_at]
    failed = [d["attention"] for d in details if d["status"] == "failed"]
    return {
        "name": name,
        "workers": workers,
        "products": len(created),
        "ready": len(ready_at),
        "failed": failed,
        "statuses": status,
        "median": median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "per_minute": len(ready_at) / (max(ready_at.values()) - started) * 60 if ready_at else 0.0,
        "wall": (max(ready_at.values()) - started) if ready_at else float("nan"),
        "peak_rss_mb": peak,
        "steps": [_steps(detail, last_upload[detail["product_id"]]) for detail in details],
    }


def _wait_until_done(api: str, token: str, count: int) -> dict[str, int]:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        items = requests.get(f"{api}/products", params={"limit": 100}, headers=auth(token), timeout=30).json()
        statuses: dict[str, int] = {}
        for item in items["items"]:
            statuses[item["status"]] = statuses.get(item["status"], 0) + 1
        if statuses.get("ready", 0) + statuses.get("failed", 0) >= count:
            return statuses
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done within {READY_WITHIN:.0f} s: {statuses}")
        time.sleep(0.5)


def _steps(detail: dict[str, Any], last_upload: float) -> dict[str, float]:
    """Seconds spent between consecutive timeline steps of the product's run."""
    seen = {e["code"]: _at(e["at"]) for e in sorted(detail.get("events") or [], key=lambda e: e["at"])}
    steps, previous = {}, last_upload
    for code, _ in STEPS:
        if code in seen:
            steps[code] = seen[code] - previous
            previous = seen[code]
    return steps


# -- one function in its own process ------------------------------------------------------------------


def one_function(handler: str, expected: int, top: int = 10) -> dict[str, Any]:
    """Run in a fresh process: import the app, take `expected` events of `handler` from its queue and
    run them as the event runtime does; peak RSS (whole process) and a cProfile of the work."""
    started = time.perf_counter()
    from app import app
    from infra.local.runtime import EventRuntime

    imported = time.perf_counter() - started
    runtime = EventRuntime(app, os.environ["EVENT_QUEUE_PREFIX"], workers=1, wait_seconds=1)
    sub = next(s for s in runtime.subscriptions if s.route.handler_name == handler)
    profiler = cProfile.Profile()
    done, work = 0, 0.0
    deadline = time.monotonic() + 300
    while done < expected and time.monotonic() < deadline:
        messages = runtime.sqs.receive_message(
            QueueUrl=sub.queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=1,
            VisibilityTimeout=300,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        for message in messages:
            real = "Records" in json.loads(message["Body"])
            began = time.perf_counter()
            profiler.enable()
            runtime.process(sub, message)
            profiler.disable()
            if real:
                work += time.perf_counter() - began
                done += 1
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return {
        "handler": handler,
        "events": done,
        "import_seconds": imported,
        "work_seconds": work,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "profile": _profile_rows(profiler, top),
    }


def _profile_rows(profiler: cProfile.Profile, top: int) -> list[dict[str, Any]]:
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = path.split("site-packages/")[-1].split("/python3.11/")[-1].replace(os.getcwd() + "/", "")
        rows.append({"where": f"{where}:{line}({function})", "calls": calls, "self": tottime, "cum": cumtime})
    return sorted(rows, key=lambda r: -r["self"])[:top]


def bare_import_rss() -> float:
    script = (
        "import resource\nfrom app import app\nfrom infra.local.runtime import EventRuntime\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def functions_alone(stack: BenchStack, product: tuple[str, list[bytes]]) -> list[dict[str, Any]]:
    """One product, its events run function by function, each in a fresh process (no runtime running)."""
    stack.stop_events()
    token = register(stack.api, f"bench-alone-{os.getpid()}@example.com")
    created = create_product(stack.api, token, product[0], product[1])
    session = requests.Session()
    for image, data in zip(created["images"], product[1], strict=True):
        upload(session, image["upload"], data)
    results = []
    for handler, expected in (("ingest", len(product[1])), ("images", 1), ("content", 1)):
        command = [
            sys.executable,
            "-m",
            "bench.pipeline_load",
            "--function",
            handler,
            "--expected",
            str(expected),
        ]
        answer = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if answer.returncode != 0:
            raise RuntimeError(f"{handler} alone failed: {answer.stderr[-2000:]}")
        results.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    final = requests.get(
        f"{stack.api}/products/{created['product_id']}", headers=auth(token), timeout=30
    ).json()
    if final["status"] != "ready":
        raise RuntimeError(
            f"the product run function by function ended {final['status']}: {final['attention']}"
        )
    return results


# -- the report --------------------------------------------------------------------------------------


def _configured_memory() -> dict[str, int]:
    config = json.loads(CHALICE_CONFIG.read_text())
    return {name: int(f["lambda_memory_size"]) for name, f in config["lambda_functions"].items()}


def _step_rows(runs: list[dict[str, Any]]) -> Iterator[str]:
    for code, label in STEPS:
        cells = []
        for result in runs:
            values = [s[code] for s in result["steps"] if code in s]
            cells.append(f"{median(values):.2f} s" if values else "-")
        yield f"| {label} | {' | '.join(cells)} |"


def report(
    load: str,
    photos: int,
    concurrent: dict[str, Any],
    sequential: dict[str, Any],
    alone: list[dict[str, Any]],
    bare_rss: float,
) -> str:
    size = f"{concurrent['products']} products x {photos} photos (12 MP, 4000x3000 JPEG q90)"
    rows = []
    for result in (sequential, concurrent):
        rows.append(
            f"| {result['name']} ({result['workers']} worker{'s' if result['workers'] > 1 else ''}) "
            f"| {result['ready']}/{result['products']} | {result['median']:.1f} s | {result['p95']:.1f} s "
            f"| {result['per_minute']:.1f} | {result['wall']:.0f} s | {result['peak_rss_mb']:.0f} MB |"
        )
    speedup = ratio(concurrent["per_minute"], sequential["per_minute"])
    memory = _configured_memory()
    function_rows = [
        f"| {f['handler']} | {f['events']} | {f['import_seconds']:.2f} s | {f['work_seconds']:.2f} s "
        f"| **{f['peak_rss_mb']:.0f} MB** | {ratio(f['peak_rss_mb'], bare_rss)} | {memory[f['handler']]} MB |"
        for f in alone
    ]
    profiles = []
    for f in alone:
        if f["handler"] == "ingest":
            continue
        lines = [f"| {r['where']} | {r['calls']} | {r['self']:.3f} | {r['cum']:.3f} |" for r in f["profile"]]
        profiles.append(
            f"**{f['handler']}** (cProfile, by own time; {f['work_seconds']:.2f} s of work profiled)\n\n"
            "| function | calls | own s | cumulative s |\n|---|---|---|---|\n" + "\n".join(lines)
        )
    failed = (
        ""
        if not (concurrent["failed"] or sequential["failed"])
        else (f"\n\nFailed products: {concurrent['failed'] + sequential['failed']}")
    )
    return (
        f"Load average at start: {load} (2 cores, shared with other work on this machine: a high "
        "figure means the run competed for the CPU).\n\n"
        f"The whole local stack as processes (moto server, `chalice local`, the event runtime, the "
        f"MercadoLibre sandbox), local providers (border-colour / u2netp cutout, rapidocr writer). "
        f"{size}: every product created through the API, then all {concurrent['products'] * photos} "
        "photos uploaded at once through their presigned POSTs (16 upload threads). Latency = from a "
        "product's last upload to its LISTING_READY timeline event. Baseline in the same run: the "
        "same products through an event runtime with one worker (a sequential pipeline). The event "
        "runtime runs every function in one process (a thread per worker), so its peak RSS is all "
        "functions together.\n\n"
        "| pipeline | ready | median to ready | p95 to ready | products / min | wall | runtime peak RSS |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"**Throughput {speedup} the sequential baseline.**{failed}\n\n"
        "Where the time goes (median seconds per product between consecutive timeline steps):\n\n"
        f"| step | {sequential['name']} | {concurrent['name']} |\n|---|---|---|\n"
        + "\n".join(_step_rows([sequential, concurrent]))
        + "\n\n"
        "Peak memory per function: each function alone in a fresh process (as a Lambda container) on "
        f"one product's events, against a process that only imports the app and the runtime "
        f"(baseline: **{bare_rss:.0f} MB**). ru_maxrss of the whole process, under cProfile.\n\n"
        "| function | events | import | work | peak RSS | vs bare import | Lambda memory configured |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(function_rows) + "\n\n" + "\n\n".join(profiles)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--photos", type=int, default=5, choices=range(1, len(SHOTS) + 1))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("EVENT_WORKERS", "4")))
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--function", choices=FUNCTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.function:
        print(json.dumps(one_function(args.function, args.expected)))
        return

    load = load_average()
    random.seed(1)
    products = catalogue(args.products, args.photos)
    with BenchStack() as stack:
        sequential = run(stack, products, 1, "sequential")
        concurrent = run(stack, products, args.workers, "concurrent")
        alone = functions_alone(stack, products[0])
    bare = bare_import_rss()
    body = report(load, args.photos, concurrent, sequential, alone, bare)
    print(body)
    if not args.no_write:
        write_section("Pipeline under load", body)


if __name__ == "__main__":
    main()
