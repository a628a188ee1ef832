"""The images function's Lambda layer: numpy, onnxruntime and the u2netp model, so the local
background remover stands in for PhotoRoom in AWS as it does locally.

`make package` builds it beside chalice.tf.json (infra/deploy/package.py).

Wheels come from PyPI for Lambda's platform (manylinux2014 x86_64, CPython 3.11: the python3.11
runtime runs on Amazon Linux 2), pinned in requirements-layer.txt; what the remover never imports
(tests, f2py, distutils, onnxruntime's training and conversion tools) is left out. Python packages
go under `python/` (Lambda puts /opt/python on the path), the model under `models/` (/opt/models,
U2NETP_MODEL_PATH in .chalice/config.json). The zip is deterministic (sorted, fixed times), so
Terraform's source_code_hash changes only when the contents do.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.local.environment import ROOT
from infra.local.models import ensure_u2netp

REQUIREMENTS = ROOT / "requirements-layer.txt"
MODEL_DIR = ROOT / ".cache" / "models"
PLATFORM = ["manylinux2014_x86_64", "manylinux_2_17_x86_64"]
PYTHON_VERSION = "3.11"
# Lambda: a function's code and its layers together, unzipped (docs.aws.amazon.com/lambda, quotas).
UNZIPPED_LIMIT = 250 * 1024 * 1024
# Lambda takes a zip this large in the request itself; larger ones must go through S3.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
PRUNED_DIRECTORIES = {
    "tests",
    "__pycache__",
    "f2py",
    "distutils",
    "transformers",
    "quantization",
    "tools",
    "datasets",
}
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Layer:
    path: Path
    zipped_bytes: int
    unzipped_bytes: int


def unzipped_size(archive: Path) -> int:
    with zipfile.ZipFile(archive) as opened:
        return sum(info.file_size for info in opened.infolist())


def _kept(relative: Path) -> bool:
    return not (set(relative.parts[:-1]) & PRUNED_DIRECTORIES) and relative.suffix not in (".pyi", ".pyc")


def build(destination: Path) -> Layer:
    with tempfile.TemporaryDirectory() as scratch:
        wheels = Path(scratch) / "wheels"
        tree = Path(scratch) / "layer"
        platforms = [f"--platform={tag}" for tag in PLATFORM]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             *platforms, f"--python-version={PYTHON_VERSION}", "--implementation=cp",
             "-r", str(REQUIREMENTS), "-d", str(wheels)],
            check=True,
        )  # fmt: skip
        for wheel in sorted(wheels.glob("*.whl")):
            with zipfile.ZipFile(wheel) as opened:
                opened.extractall(tree / "python")
        (tree / "models").mkdir(parents=True)
        shutil.copy2(ensure_u2netp(MODEL_DIR), tree / "models" / "u2netp.onnx")
        destination.parent.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in tree.rglob("*") if p.is_file() and _kept(p.relative_to(tree)))
        with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in files:
                info = zipfile.ZipInfo(str(path.relative_to(tree)), FIXED_TIME)
                # Shared libraries keep their execute bit; everything is readable by the runtime.
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return Layer(destination, destination.stat().st_size, unzipped_size(destination))


def report(layer: Layer, deployment_zip: Path | None = None) -> list[str]:
    """The sizes Lambda counts, in words; with the function's package, the total against the limit."""
    mb = 1024 * 1024
    lines = [
        f"Layer {layer.path.name}: {layer.zipped_bytes / mb:.1f} MB zipped "
        f"(direct upload limit {DIRECT_UPLOAD_LIMIT // mb} MB), {layer.unzipped_bytes / mb:.1f} MB unzipped"
    ]
    if deployment_zip is not None:
        package = unzipped_size(deployment_zip)
        total = package + layer.unzipped_bytes
        lines.append(
            f"images function: package {package / mb:.1f} MB + layer {layer.unzipped_bytes / mb:.1f} MB = "
            f"{total / mb:.1f} MB unzipped of Lambda's {UNZIPPED_LIMIT // mb} MB"
        )
    return lines
