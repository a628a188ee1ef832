"""`make package` builds a deployment zip that Lambda can actually run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.local.environment import ROOT, stage_environment
from tests.terraform import load_terraform, render

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "terraform"
    subprocess.run(
        ["make", "package", f"PACKAGE_DIR={out}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    return out


def test_the_zip_carries_the_app_the_shared_library_and_every_function(package: Path) -> None:
    names = set(zipfile.ZipFile(package / "deployment.zip").namelist())
    for needed in (
        "app.py",
        "chalicelib/domain/product.py",
        "chalicelib/store/models.py",
        "functions/__init__.py",
        "functions/api/__init__.py",
        "functions/api/products.py",
        "functions/ingest.py",
    ):
        assert needed in names, f"{needed} is missing from the deployment zip"
    assert not any(name.startswith(("tests/", "infra/", ".chalice/")) for name in names)
    assert not any(name.startswith(("moto/", "pytest/")) for name in names)  # dev tools stay out
    # Compiled dependencies come as Linux wheels Lambda can load.
    assert any(name.startswith("PIL/_imaging.cpython-311-x86_64-linux-gnu") for name in names)
    assert any(name.startswith("_argon2_cffi_bindings/_ffi") for name in names)
    assert any(name.startswith("pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu") for name in names)


def test_terraform_wires_each_function_with_the_stage_environment(package: Path) -> None:
    terraform = json.loads((package / "chalice.tf.json").read_text())
    functions = terraform["resource"]["aws_lambda_function"]
    dev = stage_environment("dev")
    assert functions["ingest"]["handler"] == "functions.ingest.ingest"
    assert functions["ingest"]["timeout"] == 60
    for function in functions.values():
        assert function["environment"]["variables"]["MEDIA_BUCKET"] == dev["MEDIA_BUCKET"]
    [notification] = terraform["resource"]["aws_s3_bucket_notification"].values()
    assert notification["bucket"] == dev["MEDIA_BUCKET"]
    assert notification["lambda_function"][0]["filter_prefix"] == "uploads/"


def test_an_event_function_imported_the_way_lambda_does_gets_the_app_middleware(
    package: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(
            tmp_path / "task",
            members=[n for n in archive.namelist() if n.startswith(("app.py", "chalicelib/", "functions/"))],
        )
    script = (
        "import importlib, json\n"
        "handler = importlib.import_module('functions.ingest').ingest\n"
        "print(json.dumps(len(list(handler.middleware_handlers))))\n"
    )
    env = {**os.environ, **stage_environment("dev"), "PYTHONPATH": str(tmp_path / "task")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path / "task",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) >= 1


def test_what_the_generated_terraform_uses_exists_in_the_hand_written_one(package: Path) -> None:
    generated = json.loads((package / "chalice.tf.json").read_text())["resource"]
    declared = load_terraform()
    buckets = {render(b["bucket"], declared) for b in declared["resource"]["aws_s3_bucket"].values()}
    tables = {render(t["name"], declared) for t in declared["resource"]["aws_dynamodb_table"].values()}
    notified = {n["bucket"] for n in generated["aws_s3_bucket_notification"].values()}
    assert notified and notified <= buckets
    for function in generated["aws_lambda_function"].values():
        variables = function["environment"]["variables"]
        assert variables["MEDIA_BUCKET"] in buckets
        used_tables = {value for key, value in variables.items() if key.endswith("_TABLE")}
        assert used_tables and used_tables <= tables, used_tables - tables


def test_the_layer_holds_the_local_remover_and_fits_beside_the_images_function(package: Path) -> None:
    from infra.deploy.layer import DIRECT_UPLOAD_LIMIT, UNZIPPED_LIMIT, unzipped_size
    from infra.local.models import SHA256

    layer = package / "local-remover-layer.zip"
    with zipfile.ZipFile(layer) as archive:
        names = set(archive.namelist())
        model = archive.read("models/u2netp.onnx")
    assert "python/numpy/__init__.py" in names and "python/onnxruntime/__init__.py" in names
    assert any(name.startswith("python/onnxruntime/capi/onnxruntime_pybind11_state") for name in names)
    assert not [name for name in names if "/tests/" in name or name.endswith((".pyc", ".pyi"))]
    assert hashlib.sha256(model).hexdigest() == SHA256
    assert layer.stat().st_size <= DIRECT_UPLOAD_LIMIT
    assert unzipped_size(package / "deployment.zip") + unzipped_size(layer) <= UNZIPPED_LIMIT


def test_the_local_remover_runs_from_the_package_and_the_layer_alone(package: Path, tmp_path: Path) -> None:
    """As in the images function: /var/task and /opt/python, no site-packages (python -S)."""
    task, opt = tmp_path / "task", tmp_path / "opt"
    for archive, target in ((package / "deployment.zip", task), (package / "local-remover-layer.zip", opt)):
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(target)
    script = (
        "import json, numpy, onnxruntime\n"
        "from PIL import Image\n"
        "from chalicelib.providers.local_remover import LocalRemover\n"
        "photo = Image.effect_noise((1600, 1200), 64).convert('RGB')  # no plain border: u2netp cuts it\n"
        "cut = LocalRemover().cutout(photo)\n"
        "print(json.dumps({'model': cut.model, 'size': cut.image.size, 'numpy': numpy.__file__,\n"
        "                  'onnxruntime': onnxruntime.__version__}))\n"
    )
    env = {
        **stage_environment("dev"),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{task}:{opt / 'python'}",
        "U2NETP_MODEL_PATH": str(opt / "models" / "u2netp.onnx"),
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], cwd=task, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert (found["model"], found["size"]) == ("u2netp", [1600, 1200])
    assert found["numpy"].startswith(str(opt / "python"))
    assert found["onnxruntime"] == "1.16.3"  # requirements-layer.txt's, not the local extras'
