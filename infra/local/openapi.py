"""Write what the panel shares with the API: the OpenAPI document, the upload limits and the sites.

    python -m infra.local.openapi web/src/lib/api

The panel's TypeScript types are generated from openapi.json (`npm run api` in web/), and its
client-side photo checks and the sites' currencies come from limits.json, so both sides answer with
the same numbers.
A test fails when the committed files drift from the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra.local.environment import apply, stage_environment


def document() -> dict[str, Any]:
    apply(stage_environment())  # the app reads its table names at import
    from functions.api import route

    return route.openapi()


def limits() -> dict[str, Any]:
    from chalicelib.domain import limits
    from chalicelib.domain.sites import SITES

    return {
        "prompt_max_chars": limits.PROMPT_MAX_CHARS,
        "max_images": limits.MAX_IMAGES,
        "max_image_bytes": limits.MAX_IMAGE_BYTES,
        "max_total_bytes": limits.MAX_TOTAL_BYTES,
        "min_width": limits.MIN_WIDTH,
        "min_height": limits.MIN_HEIGHT,
        "max_pixels": limits.MAX_PIXELS,
        "content_types": sorted(limits.CONTENT_TYPES),
        "sites": {s.id: {"currency": s.currency, "language": s.language} for s in SITES.values()},
    }


def rendered() -> dict[str, str]:
    """File name -> exact text, so writing and checking use one rendering."""
    return {
        name: json.dumps(data, indent=2, sort_keys=True) + "\n"
        for name, data in (("openapi.json", document()), ("limits.json", limits()))
    }


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    for name, text in rendered().items():
        (folder / name).write_text(text)
