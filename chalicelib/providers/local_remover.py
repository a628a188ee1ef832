"""The embedded background remover: runs on this machine, no keys, no network.

Two ways to cut, chosen per photo:

- "border-colour": when the photo's outer border is one plain colour (a studio sweep, a sheet of
  paper, a wall), every pixel is classified by its distance to that colour. Cheap, deterministic,
  and the edges come from the full-resolution pixels themselves, so they stay crisp.
- "u2netp": U^2-Net small (Apache-2.0) on onnxruntime for everything else. It sees a 320x320
  copy; the mask is brought back to full resolution with a guided filter whose guide is the
  full-resolution luminance, so the outline follows the photo, not a blown-up 320 px grid.

`uncertainty` is the share of the product's footprint (alpha > 0.1 on the reduced mask, before
edge refinement) whose alpha is undecided (0.1 < alpha < 0.9): 0 for a crisp mask, towards 1 when
most of the outline is a guess.

numpy and onnxruntime are local extras (`requirements-local.txt`), never Lambda requirements, so
they are imported on first use and their absence is a LOCAL_MODEL_MISSING failure.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from chalicelib import config
from chalicelib.observability import provider_call
from chalicelib.providers.background import BackgroundRemovalFailed, Cutout

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[Any]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[2] / ".cache" / "models" / "u2netp.onnx"
INSTALL_HINT = "run `make` to install the local extras"

WORK_SIDE = 480  # reduced copy for the border model, the mask clean-up and the uncertainty
BORDER_SHARE = 0.03  # the outer 3% of each side is "the background" for the border model
PLAIN_TOLERANCE = 12.0  # RGB distance within which a border pixel agrees with the border model
PLAIN_SHARE = 0.75  # share of the border that must agree: the rest may be the product crossing the frame
PRODUCT_SHARE = (0.01, 0.9)  # a plausible product footprint on the fast path
BACKDROP_LIKE_MAX = 0.15  # share of the footprint that may look like the backdrop (white print, shadow)
KEEP_SHARE = 0.05  # components smaller than this share of the largest are specks

U2NETP_SIDE = 320
MEAN = (0.485, 0.456, 0.406)  # ImageNet statistics, as rembg feeds u2netp
STD = (0.229, 0.224, 0.225)
GUIDE_SIDE = 1024  # the guided filter's coefficients are fitted here, then applied at full size
GUIDE_RADIUS = 8
GUIDE_EPS = 1e-3
EDGE = (0.3, 0.7)  # the light final threshold: below is background, above is product


class LocalRemover:
    name = "local"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or config.model_path("U2NETP_MODEL_PATH", DEFAULT_MODEL_PATH)

    @provider_call("local_remover")
    def cutout(self, photo: Image.Image) -> Cutout:
        started = time.perf_counter()
        np = _numpy()
        if photo.mode != "RGB":
            photo = photo.convert("RGB")
        small = photo.resize(_within(photo.size, WORK_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        # The fast path first: on a plain backdrop its outline is measured on the full-resolution pixels
        # (crisper than anything scaled up from a 320 px net) at a fraction of u2netp's cost.
        plain = _border_colour(np.asarray(small, dtype=np.float32))
        if plain is not None:
            model = "border-colour"
            coarse, soft, background, ramp = plain
            alpha = _refine_by_colour(photo, coarse, background, ramp)
        else:
            model = "u2netp"
            soft = _without_specks(_u2netp(_session(self.model_path), photo))
            alpha = _refine_by_guide(photo, soft)
        image = photo.convert("RGBA")
        image.putalpha(Image.fromarray(alpha, mode="L"))
        return Cutout(
            image=image,
            provider="local",
            model=model,
            milliseconds=(time.perf_counter() - started) * 1000,
            uncertainty=_uncertainty(soft),
        )


def _missing(what: str) -> BackgroundRemovalFailed:
    return BackgroundRemovalFailed(
        "LOCAL_MODEL_MISSING", f"The local background remover is not installed ({what}); {INSTALL_HINT}."
    )


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as error:
        raise _missing("numpy is missing") from error
    return numpy


def _session(path: Path) -> Any:
    if not path.is_file():
        raise _missing(f"no u2netp model at {path}")
    try:
        import onnxruntime  # noqa: F401  (imported here so its absence has a clear message)
    except ImportError as error:
        raise _missing("onnxruntime is missing") from error
    return _cached_session(str(path))


@lru_cache(maxsize=2)
def _cached_session(path: str) -> Any:
    """One inference session per model file and process; building it costs ~100 ms."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # INFERENCE_THREADS: 2 for a process alone; a local worker process gets its share of the cores.
    options.intra_op_num_threads = int(config.value("INFERENCE_THREADS") or 2)
    options.inter_op_num_threads = 1
    # Threads sleep between runs instead of spinning: one inference per photo, and the cores are
    # wanted by the rest of the step (and, locally, by the other worker process) meanwhile.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No memory arena: it keeps the peak of one inference reserved for the life of the process.
    options.enable_cpu_mem_arena = False
    return onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


# -- the fast path: a plain border colour ------------------------------------------------------------


def _border_colour(small: Array) -> tuple[Array, Array, Array, tuple[float, float]] | None:
    """(clean mask, soft mask, background model, distance ramp) on the reduced copy, or None if unsure.

    Confident means: most of the border agrees with one colour (a gentle gradient allowed, as from
    uneven light; the rest may be the product crossing the frame), what differs from it is a
    plausible product, and little of that product looks like the backdrop. Colour keying cannot
    tell a white carton from a white sweep, nor a shadow from the product: on such photos it
    gives a wrong cut that looks right, and u2netp is the better judge.
    """
    import numpy as np

    h, w, _ = small.shape
    band = max(2, round(BORDER_SHARE * min(h, w)))
    ring = np.zeros((h, w), dtype=bool)
    ring[:band] = ring[-band:] = True
    ring[:, :band] = ring[:, -band:] = True
    ys, xs = np.nonzero(ring)
    colours = small[ring]
    design = np.column_stack([np.ones(xs.size), xs / w, ys / h])
    keep = np.ones(xs.size, dtype=bool)
    for _ in range(2):  # refit on the agreeing pixels, so a product touching the border does not skew it
        background, *_ = np.linalg.lstsq(design[keep], colours[keep], rcond=None)
        residual = np.linalg.norm(colours - design @ background, axis=1)
        keep = residual < PLAIN_TOLERANCE
    if keep.mean() < PLAIN_SHARE:
        return None
    noise = float(np.percentile(residual[keep], 95))
    expected = _expected(background, np.arange(h)[:, None] / h, np.arange(w)[None, :] / w)
    distance = _distance(small, expected)
    # Below `low` is background, above `high` product; set by the border's own noise.
    low = max(3.0 * noise, PLAIN_TOLERANCE)
    high = low + 24.0
    soft = np.clip((distance - low) / (high - low), 0.0, 1.0)
    mask = _fill_holes(_largest_components(soft >= 0.5))
    if not PRODUCT_SHARE[0] <= mask.mean() <= PRODUCT_SHARE[1]:
        return None
    if _backdrop_like(small, expected)[mask].mean() > BACKDROP_LIKE_MAX:
        return None
    return mask, soft, background, (low, high)


def _expected(background: Array, y: Array, x: Array) -> Array:
    """The background model's colour at (normalised) positions."""
    expected: Array = background[0] + x[..., None] * background[1] + y[..., None] * background[2]
    return expected


def _distance(pixels: Array, expected: Array) -> Array:
    import numpy as np

    distance: Array = np.sqrt(np.sum((pixels - expected) ** 2, axis=-1, dtype=np.float32))
    return distance


def _backdrop_like(pixels: Array, expected: Array) -> Array:
    """Pixels of the backdrop's hue at 60-105% of its brightness: the backdrop itself, or its shadow."""
    import numpy as np

    total = np.maximum(pixels.sum(axis=-1), 1.0)
    expected_total = np.maximum(expected.sum(axis=-1), 1.0)
    brightness = total / expected_total
    hue_shift = 255 * np.linalg.norm(
        pixels / total[..., None] - expected / expected_total[..., None], axis=-1
    )
    like: Array = (brightness > 0.6) & (brightness < 1.05) & (hue_shift < 4.0)
    return like


def _refine_by_colour(
    photo: Image.Image, coarse: Array, background: Array, ramp: tuple[float, float]
) -> Array:
    """Full-resolution alpha: the clean coarse mask, with its edge band re-measured on the real pixels."""
    import numpy as np

    width, height = photo.size
    # A slightly blurred coarse mask marks a band of about +-1.5 reduced pixels around the outline.
    up = _resize_float(_box_mean(coarse, 1), (width, height))
    alpha = np.where(up >= 0.5, 255, 0).astype(np.uint8)
    ys, xs = np.nonzero((up > 0.02) & (up < 0.98))
    pixels = np.asarray(photo)[ys, xs].astype(np.float32)
    distance = _distance(pixels, _expected(background, ys / height, xs / width))
    low, high = ramp
    alpha[ys, xs] = np.round(255 * np.clip((distance - low) / (high - low), 0.0, 1.0))
    return alpha


# -- u2netp ------------------------------------------------------------------------------------------


def _u2netp(session: Any, photo: Image.Image) -> Array:
    """u2netp's saliency map, 320x320 in 0..1, preprocessed as rembg does: what the weights learnt on."""
    import numpy as np

    small = photo.resize((U2NETP_SIDE, U2NETP_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = np.asarray(small, dtype=np.float32)
    mean, std = np.array(MEAN, dtype=np.float32), np.array(STD, dtype=np.float32)
    pixels = (pixels / max(float(pixels.max()), 1e-6) - mean) / std
    feed = {session.get_inputs()[0].name: pixels.transpose(2, 0, 1)[None].astype(np.float32)}
    prediction = session.run(None, feed)[0][0, 0]
    low, high = float(prediction.min()), float(prediction.max())
    return np.asarray((prediction - low) / max(high - low, 1e-6), dtype=np.float32)


def _without_specks(mask: Array) -> Array:
    """The saliency map without small islands the net found salient (a price tag, a reflection)."""
    import numpy as np

    solid = mask >= 0.5
    kept = _largest_components(solid)
    dropped = _dilate(solid & ~kept, 2) & ~kept
    return np.where(dropped, np.float32(0), mask)


def _refine_by_guide(photo: Image.Image, mask: Array) -> Array:
    """Full-resolution alpha from the 320 px map: a fast guided filter (He & Sun, 2015).

    The filter's local linear coefficients are fitted at GUIDE_SIDE and upsampled; applied to the
    full-resolution luminance they put the outline on the photo's real edges.
    """
    import numpy as np

    width, height = photo.size
    scale = min(1.0, GUIDE_SIDE / max(width, height))
    work = (max(1, round(width * scale)), max(1, round(height * scale)))
    luminance = photo.convert("L")
    guide = np.asarray(luminance.resize(work, Image.Resampling.BILINEAR), dtype=np.float32) / 255
    prior = _resize_float(mask, work)
    mean_i = _box_mean(guide, GUIDE_RADIUS)
    mean_p = _box_mean(prior, GUIDE_RADIUS)
    covariance = _box_mean(guide * prior, GUIDE_RADIUS) - mean_i * mean_p
    variance = _box_mean(guide * guide, GUIDE_RADIUS) - mean_i * mean_i
    a = covariance / (variance + GUIDE_EPS)
    b = mean_p - a * mean_i
    # alpha = 255 * clip((a * L / 255 + b - low) / (high - low), 0, 1) for the luminance L (0..255):
    # the scaling is folded into a and b here, where they are small (bilinear resizing is linear), so
    # at full resolution it is one multiply-add and a clip, in place.
    low, high = EDGE
    a = _box_mean(a, GUIDE_RADIUS) / (high - low)
    b = (_box_mean(b, GUIDE_RADIUS) - low) * (255 / (high - low))
    alpha: Array = _resize_float(a, (width, height)) * np.asarray(luminance)
    alpha += _resize_float(b, (width, height))
    np.clip(alpha, 0.0, 255.0, out=alpha)
    alpha += 0.5  # rounds, as the cast truncates
    return alpha.astype(np.uint8)


def _within(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size with its long side at most `side`, in proportion (as Image.thumbnail would make it)."""
    scale = min(1.0, side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


# -- small array tools (numpy only: no OpenCV or SciPy among the extras) -----------------------------


def _resize_float(values: Array, size: tuple[int, int]) -> Array:
    import numpy as np

    image = Image.fromarray(np.asarray(values, dtype=np.float32), mode="F")
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def _box_mean(values: Array, radius: int) -> Array:
    """Mean over a (2r+1)^2 window from an integral image; the border repeats the edge pixels."""
    import numpy as np

    size = 2 * radius + 1
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    integral = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    total: Array = (
        integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]
    )
    return (total / (size * size)).astype(np.float32)


def _dilate(mask: Array, steps: int) -> Array:
    import numpy as np

    grown = mask.copy()
    for _ in range(steps):
        padded = np.pad(grown, 1)
        grown = (
            padded[1:-1, 1:-1] | padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
        )
    return grown


def _labels(mask: Array) -> Array:
    """4-connected component labels (each the flat index of its first pixel); off pixels get mask.size.

    Neighbour-minimum propagation with pointer jumping: a pixel adopts the label of the pixel its
    label names, which collapses long chains, so even winding shapes settle in a few dozen rounds.
    """
    import numpy as np

    none = mask.size
    labels = np.where(mask, np.arange(none).reshape(mask.shape), none)
    while True:
        merged = labels.copy()
        np.minimum(merged[1:], labels[:-1], out=merged[1:])
        np.minimum(merged[:-1], labels[1:], out=merged[:-1])
        np.minimum(merged[:, 1:], labels[:, :-1], out=merged[:, 1:])
        np.minimum(merged[:, :-1], labels[:, 1:], out=merged[:, :-1])
        merged[~mask] = none
        flat = merged.ravel()
        on = flat < none
        flat[on] = flat[flat[on]]
        if np.array_equal(merged, labels):
            return labels
        labels = merged


def _largest_components(mask: Array) -> Array:
    """The components that matter: the largest, and any at least KEEP_SHARE of its size."""
    import numpy as np

    if not mask.any():
        return mask
    labels = _labels(mask)
    areas = np.bincount(labels[mask])
    kept: Array = mask & (areas[np.minimum(labels, areas.size - 1)] >= KEEP_SHARE * areas.max())
    return kept


def _fill_holes(mask: Array) -> Array:
    """Background that cannot reach the border is product: white print, highlights, a label's gaps."""
    import numpy as np

    outside = ~mask
    labels = _labels(outside)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    reachable = np.isin(labels, edge[edge < mask.size])
    return mask | (outside & ~reachable)


def _uncertainty(soft: Array) -> float:
    footprint = soft > 0.1
    if not footprint.any():
        return 1.0
    return float((footprint & (soft < 0.9)).sum() / footprint.sum())
