"""The pipeline under load on the local stack with the local providers. `python -m bench.pipeline_load`

N products x 5 phone-sized photos (12 MP), created through the API, then every photo uploaded at once
through the presigned POSTs; seconds from a product's last upload to its `ready` (the LISTING_READY
event on its timeline), products per minute, and the event runtime's peak memory. Baseline in the same
run: the same products through a runtime with one worker process (a sequential pipeline).

Per function (ingest, images, content), the peak memory of a fresh process that runs just that
function on two products' events, as a Lambda container would, next to a process that only imports
the app: the first product's events under cProfile (top-10 of each step, cold: imports and model
sessions load), the second's timed without it (warm, as a busy container runs).

    python -m bench.pipeline_load [--products 20] [--photos 5] [--workers <cores>]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
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

from bench.report import timed, write_section
from bench.stack import (
    BenchStack,
    auth,
    children,
    cpu_seconds,
    create_product,
    peak_rss_mb,
    peak_rss_of_workers_mb,
    register,
    upload,
)
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
    stack: BenchStack, products: list[tuple[str, list[bytes]]], workers: int, name: str, drain: bool = False
) -> dict[str, Any]:
    """Every photo of every product uploaded at once; back when all are ready (or failed).

    `drain`: the runtime starts only after the last upload, so its throughput is measured on the
    pipeline's own work, not on the emulator taking 400 MB of uploads on the same two cores."""
    events = None if drain else stack.start_events(workers)
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
    if events is None:
        events = stack.start_events(workers)
        started = time.time()
    emulator_cpu = cpu_seconds(stack.moto.pid) if stack.moto else 0.0
    api_cpu = cpu_seconds(stack.pid("api"))
    status = _wait_until_done(stack.api, token, len(created))
    details = [
        requests.get(f"{stack.api}/products/{p['product_id']}", headers=auth(token), timeout=30).json()
        for p in created
    ]
    peak = peak_rss_mb(events.process.pid)
    worker_peak = peak_rss_of_workers_mb(events.process.pid)
    # Where the two cores went while the pipeline ran (in drain mode: only the pipeline's own work).
    cpu = {
        "emulator": (cpu_seconds(stack.moto.pid) if stack.moto else 0.0) - emulator_cpu,
        "api": cpu_seconds(stack.pid("api")) - api_cpu,
        "workers": sum(cpu_seconds(child) for child in children(events.process.pid)),
    }
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
        "worker_peak_rss_mb": worker_peak,
        "cpu": cpu,
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


def one_function(handler: str, expected: int, cold_events: int, top: int = 10) -> dict[str, Any]:
    """Run in a fresh process: import the app, take `expected` events of `handler` from its queue and
    run them as the event runtime does; peak RSS (whole process), a cProfile of the first
    `cold_events` (cold) and the plain time of the rest (warm), in all and event by event."""
    started = time.perf_counter()
    from app import app
    from infra.local.runtime import EventRuntime

    imported = time.perf_counter() - started
    runtime = EventRuntime(app, os.environ["EVENT_QUEUE_PREFIX"], workers=1, wait_seconds=1)
    sub = next(s for s in runtime.subscriptions if s.route.handler_name == handler)
    profiler = cProfile.Profile()
    done, cold = 0, 0.0
    warm_each: list[float] = []
    warm_cpu_each: list[float] = []  # every thread of the process: onnxruntime's included
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
            profiled = done < cold_events
            began, began_cpu = time.perf_counter(), time.process_time()
            if profiled:
                profiler.enable()
            runtime.process(sub, message)
            if profiled:
                profiler.disable()
            if real:
                if profiled:
                    cold += time.perf_counter() - began
                else:
                    warm_each.append(time.perf_counter() - began)
                    warm_cpu_each.append(time.process_time() - began_cpu)
                done += 1
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return {
        "handler": handler,
        "events": done,
        "import_seconds": imported,
        "work_seconds": cold,
        # A product's events: the cold product's count. Each warm product is another product.
        "warm_seconds": sum(warm_each) / max(1, len(warm_each) // max(1, cold_events)),
        "warm_each_seconds": warm_each,
        "slowest_warm_seconds": max(warm_each, default=0.0),
        "warm_cpu_each_seconds": warm_cpu_each,
        "peak_rss_mb": peak_rss_mb(os.getpid()),
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
        "import os\nfrom app import app\nfrom infra.local.runtime import EventRuntime\n"
        "from bench.stack import peak_rss_mb\nprint(peak_rss_mb(os.getpid()))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def functions_alone(
    stack: BenchStack, products: list[tuple[str, list[bytes]]], last: str = "content"
) -> list[dict[str, Any]]:
    """The products' events run function by function up to `last`, each function in a fresh process
    (no runtime running): the first product's events profiled (cold), the others' timed (warm).
    Products differ (a brand read on the first photo settles the reading; one never read makes the
    writer read every photo), so the warm ones are several."""
    stack.stop_events()
    token = register(stack.api, f"bench-alone-{os.getpid()}@example.com")
    session = requests.Session()
    created = []
    for prompt, photos in products:
        created.append(create_product(stack.api, token, prompt, photos))
        for image, data in zip(created[-1]["images"], photos, strict=True):
            upload(session, image["upload"], data)
    results = []
    per_product = {"ingest": len(products[0][1]), "images": 1, "content": 1}
    for handler in FUNCTIONS[: FUNCTIONS.index(last) + 1]:
        events = per_product[handler]
        command = [
            sys.executable,
            "-m",
            "bench.pipeline_load",
            "--function",
            handler,
            "--expected",
            str(len(products) * events),
            "--cold",
            str(events),
        ]
        answer = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if answer.returncode != 0:
            raise RuntimeError(f"{handler} alone failed: {answer.stderr[-2000:]}")
        results.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    for one in created if last == "content" else ():
        final = requests.get(
            f"{stack.api}/products/{one['product_id']}", headers=auth(token), timeout=30
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


# Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB
# (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
FULL_VCPU_MB = 1769
TARGETS = {"images": 0.8, "content": 1.5, "median": 15.0, "speedup": 1.7, "rss": 450.0, "ingest": 2.0}


def decode_floor(photos: list[bytes]) -> dict[str, float]:
    """Per photo, in this process: a bare 1/8-scale decode of the same files (the floor ingest is
    held to) and intake's whole judgement of them (format, header, decode, orientation, hash)."""
    from chalicelib.imaging import inspect_photo

    def bare() -> None:
        for data in photos:
            with Image.open(io.BytesIO(data)) as image:
                image.draft(image.mode, (image.width // 8, image.height // 8))
                image.load()

    def judged() -> None:
        for data in photos:
            inspect_photo(data)

    return {"bare": timed(bare) / len(photos), "judged": timed(judged) / len(photos)}


def _cores_busy(result: dict[str, Any]) -> float:
    return float(sum(result["cpu"].values()) / result["wall"]) if result["wall"] else 0.0


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(
    load: str,
    photos: int,
    concurrent: dict[str, Any],
    sequential: dict[str, Any],
    drained: list[dict[str, Any]],
    alone: list[dict[str, Any]],
    bare_rss: float,
    floor: dict[str, float],
) -> str:
    size = f"{concurrent['products']} products x {photos} photos (12 MP, 4000x3000 JPEG q90)"
    rows = []
    for result in (sequential, concurrent):
        rows.append(
            f"| {result['name']} ({result['workers']} worker process{'es' if result['workers'] > 1 else ''}) "
            f"| {result['ready']}/{result['products']} | {result['median']:.1f} s | {result['p95']:.1f} s "
            f"| {result['per_minute']:.1f} | {result['wall']:.0f} s | {result['peak_rss_mb']:.0f} MB "
            f"| {result['worker_peak_rss_mb']:.0f} MB |"
        )
    speedup = concurrent["per_minute"] / sequential["per_minute"] if sequential["per_minute"] else 0.0
    one, many = drained
    drain_speedup = many["per_minute"] / one["per_minute"] if one["per_minute"] else 0.0
    drain_rows = [
        f"| {r['workers']} | {r['ready']}/{r['products']} | {r['per_minute']:.1f} | {r['wall']:.0f} s "
        f"| {r['cpu']['workers'] / r['ready']:.2f} s | {r['cpu']['emulator'] / r['ready']:.2f} s "
        f"| {r['cpu']['api'] / r['ready']:.2f} s | {_cores_busy(r):.2f} | {r['worker_peak_rss_mb']:.0f} MB |"
        for r in drained
        if r["ready"]
    ]
    # The most two workers can gain: what is left of the cores when one worker already keeps some busy.
    ceiling = (os.cpu_count() or 1) / _cores_busy(one) if _cores_busy(one) else 0.0
    memory = _configured_memory()
    by = {f["handler"]: f for f in alone}
    # Per product: the mean of the warm products.
    warm = {name: f["warm_seconds"] for name, f in by.items()}
    ingest_per_photo = warm["ingest"] / photos
    peak = max(f["peak_rss_mb"] for f in alone)
    targets = [
        (
            "ingest, per 12 MP photo (whole function, emulator I/O included)",
            f"{ingest_per_photo * 1000:.0f} ms (judgement alone {floor['judged'] * 1000:.0f} ms, "
            f"{ratio(floor['judged'], floor['bare'])})",
            f"bare 1/8-scale decode of the same files: {floor['bare'] * 1000:.0f} ms",
            "judgement within 2x of the decode",
            _met(floor["judged"] <= TARGETS["ingest"] * floor["bare"]),
        ),
        *(
            (
                f"{step} step, {photos} photos, {provider} (warm, each of the {len(PRODUCTS)} products)",
                f"{warm[step]:.2f} s a product, the slowest {by[step]['slowest_warm_seconds']:.2f} s",
                f"cold, first product, under cProfile: {by[step]['work_seconds']:.2f} s",
                target,
                _met(by[step]["slowest_warm_seconds"] < TARGETS[step]),
            )
            for step, provider, target in (
                ("images", "local remover", "under 0.8 s"),
                ("content", "local writer", "under 1.5 s (make eval: Listing quality)"),
            )
        ),
        (
            f"{size.split(' (')[0]} at once, median last upload -> ready",
            f"{concurrent['median']:.1f} s ({concurrent['workers']} worker processes)",
            f"1 worker process: {sequential['median']:.1f} s",
            "under 15 s",
            _met(concurrent["median"] < TARGETS["median"]),
        ),
        (
            f"throughput, {many['workers']} worker processes vs 1, photos already uploaded",
            f"{drain_speedup:.2f}x ({many['per_minute']:.1f} products/min)",
            f"1 worker process: {one['per_minute']:.1f} products/min, keeping {_cores_busy(one):.2f} "
            f"cores busy (the most 2 workers can gain: {ceiling:.2f}x)",
            "at least 1.7x",
            _met(drain_speedup >= TARGETS["speedup"]),
        ),
        (
            f"throughput, {concurrent['workers']} worker processes vs 1, uploads arriving meanwhile",
            f"{speedup:.2f}x",
            f"1 worker process: {sequential['per_minute']:.1f} products/min",
            "(the same target; the emulator takes the uploads on the same cores)",
            _met(speedup >= TARGETS["speedup"]),
        ),
        (
            "peak RSS of any function (fresh process)",
            f"{peak:.0f} MB",
            f"a process that only imports the app: {bare_rss:.0f} MB",
            "under 450 MB",
            _met(peak < TARGETS["rss"]),
        ),
    ]
    target_rows = [f"| {' | '.join(row)} |" for row in targets]
    function_rows = []
    for f in alone:
        mb = memory[f["handler"]]
        per_product = f["warm_seconds"]
        # CPU-bound work below one vCPU takes longer in proportion; the GB-seconds stay the same.
        lambda_seconds = per_product * max(1.0, FULL_VCPU_MB / mb)
        function_rows.append(
            f"| {f['handler']} | {f['events']} | {f['import_seconds']:.2f} s | {f['work_seconds']:.2f} s "
            f"| {per_product:.2f} s | **{f['peak_rss_mb']:.0f} MB** | {ratio(f['peak_rss_mb'], bare_rss)} "
            f"| {mb} MB ({min(1.0, mb / FULL_VCPU_MB):.2f} vCPU) | ~{lambda_seconds:.2f} s "
            f"| {lambda_seconds * mb / 1024:.3f} |"
        )
    gb_seconds = sum(
        f["warm_seconds"] * max(1.0, FULL_VCPU_MB / memory[f["handler"]]) * memory[f["handler"]] / 1024
        for f in alone
    )
    profiles = []
    for f in alone:
        if f["handler"] == "ingest":
            continue
        lines = [f"| {r['where']} | {r['calls']} | {r['self']:.3f} | {r['cum']:.3f} |" for r in f["profile"]]
        profiles.append(
            f"**{f['handler']}** (cProfile of the first, cold product, by own time; "
            f"{f['work_seconds']:.2f} s of work profiled)\n\n"
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
        "The targets of issue #20, each beside its baseline from this run (`GET /products/{id}` is in "
        "*API under load*):\n\n"
        "| what | measured | baseline (this run) | target | |\n|---|---|---|---|---|\n"
        + "\n".join(target_rows)
        + "\n\n"
        f"The whole local stack as processes (moto server, `chalice local`, the event runtime, the "
        f"MercadoLibre sandbox), local providers (border-colour / u2netp cutout, rapidocr writer). "
        f"{size}: every product created through the API, then all {concurrent['products'] * photos} "
        "photos uploaded at once through their presigned POSTs (16 upload threads). Latency = from a "
        "product's last upload to its LISTING_READY timeline event. Baseline in the same run: the "
        "same products through an event runtime with one worker process (a sequential pipeline). The "
        "event runtime runs each step in a worker process (as Lambda runs each invocation in its own); "
        "the emulator, the API and the sandbox share the same two cores.\n\n"
        "| pipeline | ready | median to ready | p95 to ready | products / min | wall "
        "| runtime peak RSS | largest worker peak RSS |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"**Throughput {speedup:.2f}x the sequential baseline.**{failed}\n\n"
        "The same products with every photo uploaded before the event runtime starts (its throughput "
        "on the pipeline's own work: the functions' calls to the emulator remain):\n\n"
        "| worker processes | ready | products / min | wall from runtime start | CPU per product: the "
        "workers | the emulator | the API | cores busy | largest worker peak RSS |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(drain_rows) + "\n\n"
        "The emulator is one moto process that takes DynamoDB requests one at a time (conditional "
        "writes stay atomic) and serves every photo's bytes: the CPU columns say how much of the two "
        "cores the pipeline's own work could use. Cores busy: the CPU of the workers, the emulator "
        "and the API over the wall time.\n\n"
        f"**Throughput {drain_speedup:.2f}x with {many['workers']} worker processes.** One worker "
        f"process already keeps {_cores_busy(one):.2f} of the {os.cpu_count()} cores busy (onnxruntime "
        "runs a worker's inference on every core it is given, and the emulator works beside it), so "
        f"more workers can gain at most {ceiling:.2f}x on this machine.\n\n"
        "Where the time goes (median seconds per product between consecutive timeline steps):\n\n"
        f"| step | {sequential['name']} | {concurrent['name']} |\n|---|---|---|\n"
        + "\n".join(_step_rows([sequential, concurrent]))
        + "\n\n"
        "Per function: each function alone in a fresh process (as a Lambda container) on "
        f"{1 + len(PRODUCTS)} products' events: the first product cold and under cProfile, then each "
        f"of the {len(PRODUCTS)} products warm and timed plainly (their mean is a product's work: a "
        "brand the packaging confirms on the first photo ends the reading, one it never confirms "
        "makes the writer read every photo). Peak "
        "RSS is the whole process's VmHWM (ru_maxrss would carry over the benchmark's own memory "
        "through fork and exec: the figures before 2026-12-03 were at least the benchmark's 300 MB) "
        f"(a process that only imports the app and the runtime: "
        f"**{bare_rss:.0f} MB**). Lambda cost per listing, estimated: Lambda gives CPU in proportion "
        f"to memory (one vCPU at {FULL_VCPU_MB} MB), so a CPU-bound step below that takes longer in "
        "proportion and costs the same GB-seconds; this machine's core stands in for one vCPU.\n\n"
        "| function | events | import | work, cold (profiled) | work per product, warm | peak RSS "
        "| vs bare import | Lambda memory configured | est. Lambda duration | GB-s per listing |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(function_rows)
        + f"\n\n**About {gb_seconds:.2f} GB-seconds per listing** (ingest of {photos} photos, images, "
        "content; at $0.0000166667 per GB-second on x86, about "
        f"${gb_seconds * 0.0000166667:.6f}).\n\n" + "\n\n".join(profiles)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--photos", type=int, default=5, choices=range(1, len(SHOTS) + 1))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument(
        "--alone",
        choices=FUNCTIONS,
        help="only this function alone in a fresh process (the ones before it run unmeasured); print only",
    )
    parser.add_argument("--warm", type=int, default=1, help="warm products timed after the cold one")
    parser.add_argument("--function", choices=FUNCTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cold", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.function:
        print(json.dumps(one_function(args.function, args.expected, args.cold)))
        return
    if args.alone:
        print(f"load average at start: {load_average()}")
        with BenchStack() as stack:
            measured = functions_alone(stack, catalogue(1 + args.warm, args.photos), last=args.alone)[-1]
        each = measured["warm_each_seconds"]
        print(
            f"{args.alone}: cold {measured['work_seconds']:.2f} s (profiled); warm median "
            f"{median(each):.3f} s of {len(each)} events ({', '.join(f'{t:.3f}' for t in each)}); "
            f"CPU median {median(measured['warm_cpu_each_seconds']):.3f} s; "
            f"peak RSS {measured['peak_rss_mb']:.0f} MB"
        )
        for row in measured["profile"]:
            print(f"  {row['self']:.3f} s own, {row['cum']:.3f} s in all, {row['calls']}x {row['where']}")
        return

    load = load_average()
    random.seed(1)
    products = catalogue(args.products, args.photos)
    with BenchStack() as stack:
        sequential = run(stack, products, 1, "sequential")
        concurrent = run(stack, products, args.workers, "concurrent")
        drained = [run(stack, products, n, f"drain-{n}", drain=True) for n in (1, args.workers)]
        alone = functions_alone(stack, catalogue(1 + len(PRODUCTS), args.photos))
    bare = bare_import_rss()
    floor = decode_floor(products[0][1])
    body = report(load, args.photos, concurrent, sequential, drained, alone, bare, floor)
    print(body)
    if not args.no_write:
        write_section("Pipeline under load", body)


if __name__ == "__main__":
    main()
