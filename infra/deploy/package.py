"""`make package`: what Terraform deploys, built without AWS credentials.

    python -m infra.deploy.package --stage dev build/terraform

`chalice package --pkg-format terraform` writes chalice.tf.json and deployment.zip (app.py,
chalicelib/, functions/ and the pinned requirements.txt, as Linux wheels); beside them goes the
images function's layer (infra/deploy/layer.py). Prints the sizes Lambda counts and fails when the
images function (its package plus the layer) would not fit Lambda's 250 MB unzipped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.deploy import layer
from infra.local.environment import ROOT

LAYER_ZIP = "local-remover-layer.zip"

Run = Callable[..., subprocess.CompletedProcess[Any]]


class PackageError(RuntimeError):
    pass


def package(stage: str, out: Path, run: Run = subprocess.run) -> list[str]:
    """chalice.tf.json, deployment.zip and the layer in `out`; the size report, in lines."""
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = str(Path(sys.executable).parent / "chalice")  # the venv's, pinned in requirements-dev.txt
    result = run(
        [chalice, "package", "--stage", stage, "--pkg-format", "terraform", str(out)],
        cwd=ROOT,
        env=env,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PackageError(f"`chalice package --stage {stage}` failed with exit code {result.returncode}")
    built = layer.build(out / LAYER_ZIP)
    lines = layer.report(built, out / "deployment.zip")
    total = layer.unzipped_size(out / "deployment.zip") + built.unzipped_bytes
    if total > layer.UNZIPPED_LIMIT or built.zipped_bytes > layer.DIRECT_UPLOAD_LIMIT:
        raise PackageError("; ".join(lines) + ": over Lambda's limits")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make package", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=("dev", "prod"))
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        lines = package(args.stage, args.out)
    except PackageError as error:
        print(f"make package failed: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print(f"Deployment: {args.out}/chalice.tf.json, deployment.zip, {LAYER_ZIP}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
