"""infra/terraform as Terraform reads it: every *.tf file merged, and names rendered for a stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from infra.local.environment import ROOT

TERRAFORM_DIR = ROOT / "infra" / "terraform"
STAGE = "dev"
# Plain values: strings without their quotes, nested blocks as lists of dicts, no comments.
HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def load_terraform(directory: Path = TERRAFORM_DIR) -> dict[str, dict[str, Any]]:
    """Every *.tf file merged: {"resource": {type: {name: body}}, "locals": {...}, "output": {...}}."""
    merged: dict[str, dict[str, Any]] = {
        "resource": {},
        "data": {},
        "locals": {},
        "output": {},
        "variable": {},
        "terraform": {},
    }
    files = sorted(directory.glob("*.tf"))
    assert files, f"no Terraform files in {directory}"
    for path in files:
        with path.open() as handle:
            document = hcl2.load(handle, serialization_options=HCL_OPTIONS)
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                for type_name, named in block.items():
                    for name, body in named.items():
                        declared = merged[kind].setdefault(type_name, {})
                        assert name not in declared, f"{kind} {type_name}.{name} declared twice"
                        declared[name] = body
        for kind in ("locals", "output", "variable", "terraform"):
            for block in document.get(kind, []):
                for key, value in block.items():
                    assert key not in merged[kind], f"{kind} {key} declared twice"
                    merged[kind][key] = value
    return merged


def render(value: str, terraform: dict[str, dict[str, Any]], stage: str = STAGE) -> str:
    """Resolve `${local.name_prefix}` and `${var.stage}` the way Terraform would for `stage`."""
    prefix = terraform["locals"]["name_prefix"].replace("${var.stage}", stage)
    rendered = value.replace("${local.name_prefix}", prefix).replace("${var.stage}", stage)
    assert "${" not in rendered, f"cannot render {value!r}"
    return rendered
