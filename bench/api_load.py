"""The API under load: requests per second and latency at 1, 8 and 32 concurrent clients against the
local API (`chalice local` on the moto emulator). `python -m bench.api_load [--seconds 8]`

The load generator is a separate process (threads, a new connection per request, closed loop: a
client sends its next request when the last one answered). Baseline at the same concurrency, in the
same run: `GET /api/v1/health`, which touches nothing (routing, middleware, the HTTP server).

Then the handler alone: the same requests through Chalice's test client in this process, on the same
emulator, one after another, with what each answer cost: DynamoDB calls and the time spent waiting
for them, links in the answer, this process's CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from bench.pipeline_load import PRODUCTS as PIPELINE_PRODUCTS
from bench.pipeline_load import SHOTS, phone_photo
from bench.report import write_section
from bench.stack import BenchStack, auth, create_product, register, upload
from bench.stats import load_average, percentile, ratio
from infra.local.environment import ROOT

CLIENTS = (1, 8, 32)
PRODUCTS = 20  # in the seller's list: one page of GET /products (limit 20)
READY_PHOTOS = 5
READY_WITHIN = 300.0  # seconds for one product through the pipeline before we give up
ALONE_CALLS = 200


def generate(url: str, token: str, clients: int, seconds: float, warmup: float = 1.0) -> dict[str, Any]:
    """Run in the load-generator process: `clients` closed-loop clients for `seconds` after a warm-up."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = time.perf_counter() + warmup
    stop = start + seconds

    def client(n: int) -> None:
        # A new connection per request: `chalice local` answers keep-alive requests in two TCP segments
        # without TCP_NODELAY, so a reused connection waits ~40 ms for a delayed ACK on every answer, a
        # property of the development server that API Gateway in front of Lambda does not have.
        headers = {"Connection": "close", **(auth(token) if token else {})}
        while (now := time.perf_counter()) < stop:
            try:
                ok = requests.get(url, headers=headers, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            took = time.perf_counter() - now
            if now >= start:
                latencies[n].append(took)
                errors[n] += not ok

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [x for xs in latencies for x in xs]
    return {
        "requests": len(every),
        "errors": sum(errors),
        "rps": len(every) / seconds,
        "p50": percentile(every, 50) if every else float("nan"),
        "p99": percentile(every, 99) if every else float("nan"),
    }


def measure(url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.api_load", "--generate", url, "--clients", str(clients)]
    command += ["--seconds", str(seconds)]
    answer = subprocess.run(
        command,
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"the load generator failed: {answer.stderr[-2000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ready_product(stack: BenchStack, token: str) -> str:
    """A product as a seller opens it most: 5 phone photos through the real pipeline (local providers),
    listing ready, so its answer carries every link (photos, thumbnails, main picture)."""
    folder, prompt = PIPELINE_PRODUCTS[0]
    photos = [phone_photo(folder, shot) for shot in SHOTS[:READY_PHOTOS]]
    stack.start_events(1)
    try:
        created = create_product(stack.api, token, prompt, photos)
        session = requests.Session()
        for image, data in zip(created["images"], photos, strict=True):
            upload(session, image["upload"], data)
        url = f"{stack.api}/products/{created['product_id']}"
        deadline = time.monotonic() + READY_WITHIN
        while (status := requests.get(url, headers=auth(token), timeout=30).json()["status"]) not in (
            "ready",
            "failed",
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the product is still {status} after {READY_WITHIN:.0f} s")
            time.sleep(0.5)
    finally:
        stack.stop_events()
    if status != "ready":
        raise RuntimeError(f"the product failed: {requests.get(url, headers=auth(token), timeout=30).text}")
    return str(created["product_id"])


@contextmanager
def dynamodb_calls() -> Iterator[list[float]]:
    """Seconds of every DynamoDB call made inside the block (PynamoDB's one way out to the table)."""
    from pynamodb.connection.base import Connection

    took: list[float] = []
    dispatch = Connection.dispatch

    def timed(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return dispatch(self, operation_name, operation_kwargs)
        finally:
            took.append(time.perf_counter() - started)

    Connection.dispatch = timed  # type: ignore[method-assign]
    try:
        yield took
    finally:
        Connection.dispatch = dispatch  # type: ignore[method-assign]


def alone(paths: dict[str, tuple[str, str]], calls: int) -> dict[str, dict[str, float]]:
    """Each path `calls` times through Chalice's test client in this process (after 20 to warm up):
    medians per answer of the wall time, this process's CPU, the DynamoDB calls and their time."""
    from chalice.test import Client

    from app import app

    figures: dict[str, dict[str, float]] = {}
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        for name, (path, token) in paths.items():
            headers = auth(token)
            for _ in range(20):
                assert client.http.get(path, headers=headers).status_code == 200
            walls, cpus, counts, waits, rest = [], [], [], [], []
            links = 0
            for _ in range(calls):
                with dynamodb_calls() as took:
                    cpu, started = time.process_time(), time.perf_counter()
                    answer = client.http.get(path, headers=headers)
                    walls.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
                assert answer.status_code == 200, answer.body
                counts.append(len(took))
                waits.append(sum(took))
                rest.append(walls[-1] - waits[-1])
                links = answer.body.count(b"X-Amz-Signature=")
            walls.sort()
            figures[name] = {
                "p50": statistics.median(walls),
                "p90": percentile(walls, 90),
                "cpu": statistics.median(cpus),
                "dynamodb_calls": statistics.median(counts),
                "dynamodb_seconds": statistics.median(waits),
                "rest": statistics.median(rest),
                "links": links,
                "calls": calls,
            }
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, nargs="*", default=list(CLIENTS))
    parser.add_argument("--calls", type=int, default=ALONE_CALLS, help="requests per path, handler alone")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        figures = generate(args.generate, os.environ.get("BENCH_TOKEN", ""), args.clients[0], args.seconds)
        print(json.dumps(figures))
        return

    load = load_average()
    with BenchStack() as stack:
        token = register(stack.api, f"api-load-{os.getpid()}@example.com")
        # One photo declared, never sent: the products stay `uploading`, which is all a list needs.
        declared = [b"\0" * 100_000]
        product_ids = [
            create_product(stack.api, token, f"producto de prueba {n}", declared)["product_id"]
            for n in range(PRODUCTS)
        ]
        listed = requests.get(f"{stack.api}/products", headers=auth(token), timeout=30).json()["items"]
        assert len(listed) == PRODUCTS, len(listed)
        # Another seller, so the first one's list stays as it was: one page of products still uploading.
        other = register(stack.api, f"api-load-ready-{os.getpid()}@example.com")
        ready = ready_product(stack, other)
        one = product_ids[len(product_ids) // 2]
        targets = [
            ("GET /health (baseline)", f"{stack.api}/health", ""),
            ("GET /products", f"{stack.api}/products", token),
            ("GET /products/{id}", f"{stack.api}/products/{one}", token),
            (READY_ROW, f"{stack.api}/products/{ready}", other),
        ]
        results = {
            (name, clients): measure(url, bearer, clients, args.seconds)
            for clients in args.clients
            for name, url, bearer in targets
        }
        handler = alone(
            {
                "GET /products/{id}": (f"/api/v1/products/{one}", token),
                READY_ROW: (f"/api/v1/products/{ready}", other),
            },
            args.calls,
        )
    body = report(load, args.seconds, args.clients, results, handler)
    print(body)
    if not args.no_write:
        write_section("API under load", body)


READY_ROW = f"GET /products/{{id}} (ready, {READY_PHOTOS} photos)"


def report(
    load: str,
    seconds: float,
    levels: list[int],
    results: dict[tuple[str, int], dict[str, Any]],
    handler: dict[str, dict[str, float]],
) -> str:
    rows = []
    for clients in levels:
        base = results[("GET /health (baseline)", clients)]
        for (name, level), r in results.items():
            if level != clients:
                continue
            versus = (
                "baseline"
                if name.endswith("(baseline)")
                else f"{ratio(r['rps'], base['rps'])} rps, {ratio(r['p50'], base['p50'])} p50"
            )
            rows.append(
                f"| {clients} | {name} | **{r['rps']:.0f}** | {r['p50'] * 1000:.1f} ms | "
                f"{r['p99'] * 1000:.1f} ms | {r['errors']} | {versus} |"
            )
    return (
        f"Load average at start: {load}.\n\n"
        "`chalice local` (one process; the same handler Lambda runs) on the moto emulator, loopback. "
        "The load generator is a separate process: closed-loop clients, a new connection per request "
        "(a reused one waits ~40 ms per answer for a delayed ACK: `chalice local` writes headers and "
        f"body in two segments without TCP_NODELAY), {seconds:.0f} s per cell after a 1 s warm-up. "
        f"The seller has {PRODUCTS} products (one page of `GET /products`), each with one photo declared "
        "and not yet sent; `GET /products/{id}` opens one of them. Another seller has a product whose "
        f"{READY_PHOTOS} phone photos (12 MP) went through the pipeline with the local providers: its "
        "answer carries every link (each photo, its thumbnail, the main picture and its thumbnail). "
        "Every authenticated request checks its token in process (a signed JWT, no table read), then "
        "reads DynamoDB for its answer. Both cores are shared by "
        "the API, the emulator and the load generator, so these are figures of this machine, not of "
        "Lambda (where each concurrent request gets its own container).\n\n"
        "| clients | request | requests/s | p50 | p99 | errors | vs `GET /health` |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n" + handler_report(handler)
    )


def handler_report(handler: dict[str, dict[str, float]]) -> str:
    calls = max(h["calls"] for h in handler.values())
    rows = [
        f"| {name} | **{h['p50'] * 1000:.1f} ms** | {h['p90'] * 1000:.1f} ms | {h['dynamodb_calls']:.0f} | "
        f"{h['dynamodb_seconds'] * 1000:.1f} ms | {h['rest'] * 1000:.1f} ms | "
        f"{h['cpu'] * 1000:.1f} ms | {h['links']:.0f} |"
        for name, h in handler.items()
    ]
    return (
        "The handler alone: the same requests through Chalice's test client in the benchmark's own "
        f"process (no HTTP server, no other client), {calls} in a row after 20 to warm up, on the "
        "same emulator; medians per answer. Waiting for DynamoDB is the wall time of each PynamoDB call "
        "(the request to moto, moto's work, the answer parsed); the rest is the handler's own time.\n\n"
        "| request | p50 | p90 | DynamoDB calls | waiting for DynamoDB | the rest | CPU of this process "
        "| links in the answer |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


if __name__ == "__main__":
    main()
