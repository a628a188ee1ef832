"""Cold start: a fresh process importing `app.py` and serving its first request, as a new Lambda
container does. `python -m bench.cold_start [--repeat 10]`

Each sample is a new `python -c` process. It times `import app`, then hands the API handler an API
Gateway proxy event (the shape `chalice local` builds) for `GET /api/v1/health` (touches nothing),
then `GET /api/v1/products` with a seller's token against the local emulator (the first DynamoDB
query, client creation included). Baselines in the same run: `python -c pass` and `import chalice`.
Also `python -X importtime`: the ten heaviest imports under `app`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from statistics import median
from typing import Any

from bench.report import write_section
from bench.stack import BenchStack, register
from bench.stats import load_average, ratio
from infra.local.environment import ROOT

# Runs in the fresh process. Only the standard library before `import app`.
FIRST_REQUEST = r"""
import json, os, sys, time
started = time.perf_counter()
from app import app
imported = time.perf_counter()

class Context:
    function_name = "api_handler"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:api_handler"
    aws_request_id = "cold-start"; log_group_name = "/aws/lambda/api_handler"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 29000

def event(path, resource, token=None):
    headers = {"host": "127.0.0.1", "accept": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    return {"requestContext": {"httpMethod": "GET", "resourcePath": resource, "path": path,
            "identity": {"sourceIp": "127.0.0.1"}}, "headers": headers, "pathParameters": None,
            "stageVariables": {}, "multiValueQueryStringParameters": None, "body": None}

health = app(event("/api/v1/health", "/api/v1/health"), Context())
served = time.perf_counter()
token = os.environ.get("BENCH_TOKEN")
products = app(event("/api/v1/products", "/api/v1/products", token), Context()) if token else None
queried = time.perf_counter()
assert health["statusCode"] == 200, health
assert products is None or products["statusCode"] == 200, products
print(json.dumps({"import": imported - started, "health": served - imported, "products": queried - served}))
"""


def _wall(args: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, result.stdout


def sample(env: dict[str, str]) -> dict[str, float]:
    wall, out = _wall([sys.executable, "-c", FIRST_REQUEST], env)
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    figures["process"] = wall
    return figures


def heaviest_imports(env: dict[str, str], top: int = 10) -> list[tuple[str, float]]:
    """Where `import app` spends its time: `python -X importtime` self times summed by top-level package."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    line = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)")
    totals: dict[str, float] = {}
    for match in map(line.match, result.stderr.splitlines()):
        if match is not None:
            package = match.group(2).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load = load_average()
    with BenchStack() as stack:
        env = {**os.environ, "BENCH_TOKEN": register(stack.api, f"cold-{os.getpid()}@example.com")}
        sample(env)  # warm the OS file cache once, as a provisioned runtime image would be
        samples = [sample(env) for _ in range(args.repeat)]
        bare = [_wall([sys.executable, "-c", "pass"], env)[0] for _ in range(args.repeat)]
        chalice = [_wall([sys.executable, "-c", "import chalice.app"], env)[0] for _ in range(args.repeat)]
        imports = heaviest_imports(env)
    figures: dict[str, Any] = {name: median(s[name] for s in samples) for name in samples[0]}
    figures["python"] = median(bare)
    figures["chalice"] = median(chalice)
    body = report(load, args.repeat, figures, imports)
    print(body)
    if not args.no_write:
        write_section("Cold start", body)


def report(load: str, repeat: int, f: dict[str, Any], imports: list[tuple[str, float]]) -> str:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    first = f["import"] + f["health"] + f["products"]
    rows = [
        ("`python -c pass` (baseline)", ms(f["python"]), "1.00x"),
        (
            "`import chalice.app`, whole process (baseline)",
            ms(f["chalice"]),
            ratio(f["chalice"], f["python"]),
        ),
        (
            "`import app`",
            ms(f["import"]),
            f"{ratio(f['import'], f['chalice'] - f['python'])} chalice's import",
        ),
        ("first request `GET /health` (routing, middleware)", ms(f["health"]), "-"),
        ("first `GET /products` (token check, first DynamoDB query)", ms(f["products"]), "-"),
        (
            "**whole process**: start, import, both requests, exit",
            f"**{ms(f['process'])}**",
            f"{ratio(f['process'], f['python'])} python, {ratio(f['process'], f['chalice'])} chalice",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    heavy = "\n".join(f"| `{name}` | {ms(seconds)} |" for name, seconds in imports)
    return (
        f"Load average at start: {load}.\n\n"
        f"Medians of {repeat} fresh processes (after one to warm the file cache), each importing "
        "`app.py` and handing the API handler two API Gateway proxy events, as a new Lambda container "
        "does; the emulator is local, so the DynamoDB query costs little network time. "
        f"Import plus first real request: **{ms(first)}**. Heavy optional libraries (onnxruntime, numpy, "
        "rapidocr, google-genai) are not imported on this path.\n\n"
        "| what | median | ratio |\n|---|---|---|\n" + table + "\n\n"
        "Where `import app` goes (`python -X importtime`, one run, self time summed per top-level "
        "package; importtime's own overhead inflates the figures):\n\n"
        "| package | import time |\n|---|---|\n" + heavy
    )


if __name__ == "__main__":
    main()
