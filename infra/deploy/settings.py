"""`make deploy`'s check of the settings, before anything is built or changed.

Every setting `chalicelib.config.SETTINGS` declares as needed by a function is looked for where a
deployed stage gets it: in that function's environment from `.chalice/config.json` (global, stage,
function), as an SSM SecureString the operator put (existence only: `ssm:DescribeParameters`, never
the value), or as what Terraform needs to create its own parameters (every variable in
`infra/terraform` without a default, as `TF_VAR_<name>`). The functions run the same list at start
(config.missing_for), so what passes here is what they find.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any

import hcl2
from botocore.exceptions import BotoCoreError, ClientError
from hcl2.utils import SerializationOptions

from chalicelib.config import SETTINGS, Source
from infra.local.environment import CHALICE_CONFIG, ROOT

TERRAFORM_DIR = ROOT / "infra" / "terraform"
PASSED_BY_THE_DEPLOY = {"stage", "region"}  # infra/deploy/terraform.py sets these itself
PLAIN = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def function_environment(stage: str, function: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    """A function's environment as Chalice merges it: global, stage, function, stage's function."""
    config = config or json.loads(CHALICE_CONFIG.read_text())
    scopes = [
        config.get("environment_variables", {}),
        config["stages"][stage].get("environment_variables", {}),
        config.get("lambda_functions", {}).get(function, {}).get("environment_variables", {}),
        config["stages"][stage]
        .get("lambda_functions", {})
        .get(function, {})
        .get("environment_variables", {}),
    ]
    merged: dict[str, str] = {}
    for scope in scopes:
        merged.update(scope)
    return merged


def terraform_inputs() -> dict[str, str]:
    """Variables of infra/terraform with no default: name -> description."""
    inputs = {}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        with path.open() as handle:
            document = hcl2.load(handle, serialization_options=PLAIN)
        for block in document.get("variable", []):
            for name, body in block.items():
                if "default" not in body and name not in PASSED_BY_THE_DEPLOY:
                    inputs[name] = str(body.get("description", ""))
    return inputs


def existing_parameters(ssm: Any, names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), 10):
        token = None
        while True:
            kwargs: dict[str, Any] = {
                "ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": names[start : start + 10]}]
            }
            if token:
                kwargs["NextToken"] = token
            page = ssm.describe_parameters(**kwargs)
            found |= {parameter["Name"] for parameter in page.get("Parameters", [])}
            token = page.get("NextToken")
            if not token:
                break
    return found


def missing_settings(stage: str, ssm: Any | None, config: dict[str, Any] | None = None) -> list[str]:
    """Every setting a function of `stage` needs and would not find, one line each, in words. `ssm`
    None: the SecureStrings cannot be looked for (no credentials, said elsewhere)."""
    problems: dict[str, set[str]] = defaultdict(set)  # line -> functions
    secrets: dict[str, tuple[str, set[str]]] = {}  # parameter -> (setting, functions)
    prefix = f"/intellipost/{stage}/"
    for setting in SETTINGS.values():
        for function in sorted(setting.needed_by):
            env = function_environment(stage, function, config)
            name = setting.name
            if setting.source is Source.STAGE and not env.get(name):
                problems[f"{name}: not in the {stage} stage's environment (.chalice/config.json)"].add(
                    function
                )
            elif setting.source.in_ssm:
                parameter = env.get(f"{name}_PARAMETER", "")
                if not parameter.startswith(prefix):
                    problems[
                        f"{name}: .chalice/config.json must name its SSM parameter as {name}_PARAMETER, "
                        f"under {prefix} (the functions may read only there)"
                    ].add(function)
                elif setting.source is Source.SECRET:
                    secrets.setdefault(parameter, (name, set()))[1].add(function)
            elif setting.check is not None:
                value = env.get(name) or setting.default or ""
                problem = setting.check(value)
                if problem:
                    problems[f"{name}: {problem}"].add(function)
    present: set[str] = set()
    if ssm is not None and secrets:
        try:
            present = existing_parameters(ssm, sorted(secrets))
        except (BotoCoreError, ClientError) as error:
            problems[f"SSM: the secrets could not be looked for ({type(error).__name__}: {error})"] |= {
                function for _, functions in secrets.values() for function in functions
            }
            ssm = None
    if ssm is not None:
        for parameter, (name, functions) in sorted(secrets.items()):
            if parameter not in present:
                line = (
                    f"{name}: the SSM SecureString {parameter} does not exist; put it first: "
                    f"aws ssm put-parameter --type SecureString --name {parameter} --value ..."
                )
                problems[line] |= functions
    lines = [f"{line} (needed by {', '.join(sorted(functions))})" for line, functions in problems.items()]
    for variable, about in terraform_inputs().items():
        if not os.environ.get(f"TF_VAR_{variable}"):
            lines.append(
                f"TF_VAR_{variable}: not set; Terraform needs it to create the stage's settings ({about})"
            )
    return lines
