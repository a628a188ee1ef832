"""The packaging read with rapidocr (PP-OCRv6 on onnxruntime, the models shipped inside the wheel).

numpy and rapidocr are local extras (`requirements-local.txt`), never Lambda requirements: rapidocr
is imported on first use, and its absence is a LOCAL_OCR_MISSING failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from chalicelib.config import value
from chalicelib.domain.search import fold
from chalicelib.providers.listing import ListingWriterFailed, Photo

INSTALL_HINT = "run `make` to install the local extras"
OCR_SIDE = 1024  # long side the OCR sees: PP-OCRv6 reads packaging well there, ~0.5 s a photo
MIN_TEXT_SCORE = 0.6  # recogniser confidence below which a line is noise, not packaging text
MAX_PACKAGING_LINES = 40
WHITE_TOLERANCE = 12  # JPEG ringing around the product is not the product
MARGIN = 16  # pixels of white kept around the product: the detector needs a border around text


@dataclass(frozen=True)
class TextBox:
    """One line of text the OCR found on a photo."""

    text: str
    score: float  # the recogniser's confidence, 0-1
    height: float  # the text's height as a share of the photo's long side
    image_id: str


def read_text(engine: Any, photo: Photo) -> list[TextBox]:
    """The text lines on a photo (its cut-out when there is one), in rapidocr's reading order."""
    import numpy as np

    image = photo.product_only or photo.image
    if image.mode in ("RGBA", "LA", "P"):
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    image = image.convert("RGB")
    if max(image.size) > OCR_SIDE:
        image = image.copy()
        image.thumbnail((OCR_SIDE, OCR_SIDE), Image.Resampling.LANCZOS)
    side = float(max(image.size))
    if photo.product_only is not None:
        image = _around_product(image)
    result = engine(np.asarray(image))
    if result.boxes is None:
        return []
    boxes = []
    for corners, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        top, left = np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[3] - corners[0])
        # The shorter side is the text's height, for vertical text too.
        boxes.append(TextBox(str(text), float(score), float(min(top, left)) / side, photo.image_id))
    return boxes


def _around_product(cutout: Image.Image) -> Image.Image:
    """The cut-out without the white around the product: the detector's time and memory follow its
    pixels (a 1024 px square takes ~0.4 GB), and there is no text on the white."""
    ink = ImageChops.difference(cutout, Image.new("RGB", cutout.size, "white")).convert("L")
    box = ink.point(lambda v: 255 if v > WHITE_TOLERANCE else 0).getbbox()
    if box is None:
        return cutout
    left, top, right, bottom = box
    width, height = cutout.size
    return cutout.crop(
        (
            max(0, left - MARGIN),
            max(0, top - MARGIN),
            min(width, right + MARGIN),
            min(height, bottom + MARGIN),
        )
    )


def _missing(what: str) -> ListingWriterFailed:
    return ListingWriterFailed(
        "LOCAL_OCR_MISSING", f"The local listing writer cannot read photos ({what}); {INSTALL_HINT}.", False
    )


def ocr_engine() -> tuple[Any, str]:
    try:
        import numpy  # noqa: F401  (imported here so its absence has a clear message)
        import rapidocr
    except ImportError as error:
        raise _missing(f"{error.name or 'rapidocr'} is not installed") from error
    return _cached_engine(str(Path(rapidocr.__file__).parent / "models"))


@lru_cache(maxsize=1)
def _cached_engine(models: str) -> tuple[Any, str]:
    """One engine per process: its ONNX sessions load on first use (~0.5 s) and stay."""
    from rapidocr import RapidOCR

    # The wheel ships PP-OCRv6 detection and recognition; naming the files means rapidocr never
    # goes looking for weights to download.
    paths = {task: Path(models) / name for task, name in BUNDLED_MODELS.items()}
    absent = [str(path) for path in paths.values() if not path.is_file()]
    if absent:
        raise _missing(f"the rapidocr wheel's models are absent: {', '.join(absent)}")
    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            # The text-direction classifier only turns lines upside down; products are held upright,
            # and on these photos it flipped more right lines than wrong ones.
            "Global.use_cls": False,
            "Det.model_path": str(paths["Det"]),
            "Rec.model_path": str(paths["Rec"]),
            # The detector sees the photo at the size read_text gives it (at most OCR_SIDE); its
            # default enlarges any side under 736 px, so a product's cut-out cost more than a photo.
            "Det.limit_type": "max",
            "Det.limit_side_len": OCR_SIDE,
            # As the background remover's: INFERENCE_THREADS, a local worker process's share of the cores.
            "EngineConfig.onnxruntime.intra_op_num_threads": int(value("INFERENCE_THREADS") or 2),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    return engine, metadata.version("rapidocr")


BUNDLED_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx"}


def packaging_text(boxes: list[TextBox]) -> list[str]:
    """The readable lines, in reading order (photo by photo, top to bottom), each once."""
    lines: list[str] = []
    seen: set[str] = set()
    for box in boxes:
        line = " ".join(box.text.split())
        key = fold(line)
        if box.score < MIN_TEXT_SCORE or sum(c.isalnum() for c in line) < 2 or key in seen:
            continue
        seen.add(key)
        lines.append(line)
        if len(lines) == MAX_PACKAGING_LINES:
            break
    return lines
