"""The API under load: requests per second and latency at 1, 8 and 32 concurrent clients against the
local API (`chalice local` on the moto emulator). `python -m bench.api_load [--seconds 8]`

The load generator is a separate process (threads, a new connection per request, closed loop: a
client sends its next request when the last one answered). Baseline at the same concurrency, in the
same run: `GET /api/v1/health`, which touches nothing (routing, middleware, the HTTP server).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import requests

from bench.report import write_section
from bench.stack import BenchStack, auth, create_product, register
from bench.stats import load_average, percentile, ratio

CLIENTS = (1, 8, 32)
PRODUCTS = 20  # in the seller's list: one page of GET /products (limit 20)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, nargs="*", default=list(CLIENTS))
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
        targets = [
            ("GET /health (baseline)", f"{stack.api}/health", ""),
            ("GET /products", f"{stack.api}/products", token),
            ("GET /products/{id}", f"{stack.api}/products/{product_ids[len(product_ids) // 2]}", token),
        ]
        results = {
            (name, clients): measure(url, bearer, clients, args.seconds)
            for clients in args.clients
            for name, url, bearer in targets
        }
    body = report(load, args.seconds, args.clients, results)
    print(body)
    if not args.no_write:
        write_section("API under load", body)


def report(
    load: str, seconds: float, levels: list[int], results: dict[tuple[str, int], dict[str, Any]]
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
        f"The seller has {PRODUCTS} products (one page of `GET /products`); every "
        "authenticated request checks the token and queries DynamoDB. Both cores are shared by the API, "
        "the emulator and the load generator, so these are figures of this machine, not of Lambda "
        "(where each concurrent request gets its own container).\n\n"
        "| clients | request | requests/s | p50 | p99 | errors | vs `GET /health` |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


if __name__ == "__main__":
    main()
