"""The panel's copies of the API document and the upload limits are the code's, byte for byte."""

from __future__ import annotations

import pytest

from infra.local.environment import ROOT
from infra.local.openapi import rendered

FOLDER = ROOT / "web" / "src" / "lib" / "api"


@pytest.mark.parametrize("name", ["openapi.json", "limits.json"])
def test_the_panel_has_the_current_copy(name: str) -> None:
    committed = (FOLDER / name).read_text()
    assert committed == rendered()[name], (
        f"web/src/lib/api/{name} is stale: run `make api-types` and commit the result"
    )
