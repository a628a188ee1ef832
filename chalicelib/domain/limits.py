"""The limits a seller's upload must respect, in one place: the API, ingest and the panel use these."""

from __future__ import annotations

MB = 1024 * 1024

PROMPT_MAX_CHARS = 500
MAX_IMAGES = 8
MAX_IMAGE_BYTES = 10 * MB
MAX_TOTAL_BYTES = 50 * MB
MIN_WIDTH = 800
MIN_HEIGHT = 600
# Far above any phone camera (200 MP sensors bin to 12-50 MP), far below a decompression bomb.
MAX_PIXELS = 120_000_000

CONTENT_TYPES = {"image/jpeg": "jpg", "image/png": "png"}
