"""The images step on 12-megapixel JPEGs: scoring + thumbnail against a bare reduced decode, the local
main-picture stage, and the function's peak memory. `python -m bench.images`

Targets (issue: the images function): scoring + thumbnail within 1.5x of a bare reduced-scale decode
of the same file; local main-picture stage under 0.8 s; peak RSS under 500 MB. And intake's
judgement of the same file (issue #20) within 2x of that decode.
"""

from __future__ import annotations

import functools
import io
import json
import random
import subprocess
import sys

from PIL import Image, ImageDraw, ImageFilter

from bench.report import timed, write_section
from bench.stats import load_average
from chalicelib.domain.limits import MAX_PIXELS
from infra.local.environment import CHALICE_CONFIG

SIZE = (4000, 3000)


def synthetic_photo(busy: bool, seed: int = 1) -> bytes:
    """A product (a labelled carton) on a plain table or a busy shelf, 12 MP, phone-like JPEG."""
    rng = random.Random(seed)
    photo = Image.new("RGB", SIZE, (226, 222, 214))
    draw = ImageDraw.Draw(photo)
    if busy:
        for _ in range(400):
            x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
            colour = tuple(rng.randrange(256) for _ in range(3))
            draw.rectangle((x, y, x + rng.randrange(60, 400), y + rng.randrange(60, 400)), fill=colour)
    draw.rounded_rectangle((1400, 500, 2600, 2600), radius=60, fill=(40, 110, 190))
    draw.rectangle((1500, 900, 2500, 1300), fill=(250, 250, 250))
    for line in range(12):
        draw.text((1550, 1000 + line * 100), "LECHE DE AVENA 1 L " * 2, fill=(20, 20, 20))
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    # Sensor noise, as in a phone photo: it is what makes real JPEGs large and slow to decode.
    noise = Image.effect_noise(SIZE, 24).convert("RGB")
    photo = Image.blend(photo, noise, 0.12)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=90)
    return out.getvalue()


def bare_reduced_decode(data: bytes) -> None:
    """The baseline: JPEG's DCT-scaled decode at the same scale the step asks for, and nothing else."""
    from chalicelib.imaging import ANALYSIS_SIDE, draft_size

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", draft_size(image.size, ANALYSIS_SIDE))
        image.load()


def naive_full_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.resize((800, 600))


_IMPORTS = (
    "import os, sys\n"
    "from chalicelib.imaging import inspect_photo, reduced_decode, measure, thumbnail_jpeg\n"
    "from chalicelib.imaging import full_decode, compose_main_picture\n"
    "from chalicelib.providers.local_remover import LocalRemover\n"
)
# The images step for one photo: scoring, thumbnail, main picture.
_STEP = (
    "reduced = reduced_decode(data); measure(reduced, 4000, 3000); thumbnail_jpeg(reduced)\n"
    "compose_main_picture(LocalRemover().cutout(full_decode(data)).image)\n"
)
_INTAKE = "inspect_photo(data)\n"


def _peak_memory(data: bytes, work: str = _STEP) -> float:
    """`work` on one photo in a fresh process, as a Lambda would run it: peak RSS in MB."""
    script = (
        _IMPORTS
        + "data = sys.stdin.buffer.read()\n"
        + work
        + "from bench.stack import peak_rss_mb\nprint(peak_rss_mb(os.getpid()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, check=True)
    return float(result.stdout.decode().strip().splitlines()[-1])


def largest_accepted_png() -> bytes:
    """The most pixels intake accepts (MAX_PIXELS) in a PNG of flat colours: a few hundred kB on the
    wire, every pixel decoded (PNG has no reduced-scale decode)."""
    width = 12_000
    height = MAX_PIXELS // width
    photo = Image.new("RGB", (width, height), (200, 180, 160))
    # A carton on the table: something for the remover to cut out.
    ImageDraw.Draw(photo).rectangle((width // 3, height // 4, 2 * width // 3, 3 * height // 4), (40, 90, 160))
    out = io.BytesIO()
    photo.save(out, format="PNG", compress_level=9)
    return out.getvalue()


def main() -> None:
    from chalicelib.imaging import (
        compose_main_picture,
        full_decode,
        inspect_photo,
        measure,
        reduced_decode,
        thumbnail_jpeg,
    )
    from chalicelib.providers.local_remover import LocalRemover

    load = load_average()
    remover = LocalRemover()
    rows = []
    figures = {}
    for name, busy in (("plain table", False), ("busy shelf", True)):
        data = synthetic_photo(busy)

        def score_and_thumbnail(data: bytes = data) -> None:
            reduced = reduced_decode(data)
            measure(reduced, *SIZE)
            thumbnail_jpeg(reduced)

        def main_picture(data: bytes = data) -> str:
            cutout = remover.cutout(full_decode(data))
            compose_main_picture(cutout.image)
            return cutout.model

        bare = timed(functools.partial(bare_reduced_decode, data))
        naive = timed(functools.partial(naive_full_decode, data))
        ours = timed(score_and_thumbnail)
        judged = timed(functools.partial(inspect_photo, data))
        model = main_picture()
        stage = timed(main_picture, repeat=3)
        memory = _peak_memory(data)
        figures[name] = {
            "bare": bare,
            "judged": judged,
            "ours": ours,
            "naive": naive,
            "stage": stage,
            "memory": memory,
        }
        rows.append(
            f"| {name} | {bare * 1000:.0f} ms | {judged * 1000:.0f} ms (**{judged / bare:.2f}x**) "
            f"| {ours * 1000:.0f} ms | **{ours / bare:.2f}x** | "
            f"{naive * 1000:.0f} ms ({naive / ours:.1f}x slower) | {model}: **{stage:.2f} s** | "
            f"**{memory:.0f} MB** |"
        )
    largest = largest_accepted_png()
    functions = json.loads(CHALICE_CONFIG.read_text())["lambda_functions"]
    lambda_mb = {name: int(f["lambda_memory_size"]) for name, f in functions.items()}
    intake_peak, step_peak = _peak_memory(largest, _INTAKE), _peak_memory(largest)
    figures["largest accepted PNG"] = {"bytes": len(largest), "intake": intake_peak, "step": step_peak}
    body = (
        f"Load average at start: {load}.\n\n"
        "Synthetic 12 MP JPEGs (4000x3000, quality 90): a labelled carton on a plain table and on a busy "
        "shelf. Medians of 5 runs (3 for the main picture) after a warm-up; memory is the peak RSS of a "
        "fresh process running the whole step for one photo (imports, onnxruntime session included). "
        "Intake's judgement: format, header, a 1/8-scale decode that still reads every byte (so a "
        "truncated or damaged file fails), EXIF orientation, SHA-256.\n\n"
        "| photo | bare reduced decode (baseline) | intake judgement (target <= 2x) "
        "| scoring + thumbnail | ratio (target <= 1.5x) | "
        "naive full decode + resize | local main picture (target < 0.8 s) | peak RSS (target < 500 MB) |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"The largest photo intake accepts, {MAX_PIXELS // 1_000_000} MP in a PNG of flat colours "
        f"({len(largest) / 1e6:.2f} MB: PNG has no reduced-scale decode, every pixel is decoded), each in a "
        f"fresh process: intake's judgement peaks at **{intake_peak:.0f} MB** (the ingest function has "
        f"{lambda_mb['ingest']} MB in Lambda), the images step for it at **{step_peak:.0f} MB** (the images "
        f"function has {lambda_mb['images']} MB)."
    )
    write_section("Images step", body)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
