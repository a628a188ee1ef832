"""Where secrets live: SSM (read through Powertools, cached), never in the config or Terraform outputs.

`.chalice/config.json` becomes every function's environment, and so part of the Terraform state;
Terraform outputs are printed by every apply. Neither may carry a secret's value.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import boto3
import pytest

from chalicelib.config import secret
from infra.deploy.terraform import merge
from infra.local.environment import CHALICE_CONFIG, stage_environment
from tests.terraform import TERRAFORM_DIR, load_terraform

ROOT = Path(__file__).resolve().parents[2]
# Every name the code reads through config.secret().
SECRET_CALL = re.compile(r"""\bsecret\(\s*["']([A-Z0-9_]+)["']\s*\)""")


def secrets_in_code() -> set[str]:
    names = set()
    for folder in ("chalicelib", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(SECRET_CALL.findall(path.read_text()))
    return names


def test_the_code_reads_the_secrets_the_readme_names() -> None:
    assert secrets_in_code() >= {
        "JWT_SECRET",
        "GEMINI_API_KEY",
        "PHOTOROOM_API_KEY",
        "MERCADOLIBRE_CLIENT_SECRET",
    }


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_the_chalice_config_names_parameters_never_secret_values(stage: str) -> None:
    env = stage_environment(stage)
    for name in secrets_in_code():
        assert name not in env, f"{name} is a secret: set {name}_PARAMETER (an SSM name) instead"
        parameter = env.get(f"{name}_PARAMETER")
        if parameter is not None:
            assert parameter.startswith(("/intellipost/", "/aws/reference/secretsmanager/")), parameter
    # Anything else that sounds secret must be a reference too (a KMS key alias is a name, not a key).
    for name, value in env.items():
        if re.search(r"SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE", name) and not name.endswith("_PARAMETER"):
            assert name == "TOKENS_KMS_KEY_ID" and value.startswith("alias/"), name


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_aws_stages_name_every_secret_under_the_stage_prefix_the_roles_may_read(stage: str) -> None:
    """iam.tf grants ssm:GetParameter on /intellipost/<stage>/* and nothing else."""
    env = stage_environment(stage)
    # TOKENS_LOCAL_KEY seals tokens only where there is no KMS key (locally); AWS uses TOKENS_KMS_KEY_ID.
    for name in sorted(secrets_in_code() - {"TOKENS_LOCAL_KEY"}):
        parameter = env.get(f"{name}_PARAMETER")
        assert parameter, f"{stage}: {name}_PARAMETER is not set, the function would fail to start"
        assert parameter.startswith(f"/intellipost/{stage}/"), parameter
    assert env["TOKENS_KMS_KEY_ID"] == f"alias/intellipost-{stage}"


def test_the_config_file_holds_no_secret_looking_value() -> None:
    config = json.loads(CHALICE_CONFIG.read_text())
    values: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, str):
            values.append(node)

    collect(config)
    # A long run of letters and digits without word separators is what a key or token looks like.
    key_like = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_]{24,}")
    assert [v for v in values if key_like.fullmatch(v)] == []
    assert key_like.fullmatch("AIzaSyD3x4mpl3K3yV4lu3Th4tL00ksR34l")  # the check can fail


def test_no_terraform_output_is_or_carries_a_secret() -> None:
    outputs = load_terraform(TERRAFORM_DIR)["output"]
    generated = merge(
        {
            "resource": {
                "aws_lambda_function": {"api": {"function_name": "x", "role": "${aws_iam_role.api.arn}"}}
            }
        },
        stage_environment("dev")["MEDIA_BUCKET"],
    )["output"]
    for name, output in [*outputs.items(), *generated.items()]:
        assert not output.get("sensitive"), f"output {name} is marked sensitive: it should not be an output"
        text = json.dumps(output.get("value"))
        for secret_source in (
            "aws_ssm_parameter",
            "aws_secretsmanager_secret_version",
            "random_password",
            "aws_iam_access_key",
            "tls_private_key",
        ):
            assert secret_source not in text, f"output {name} reads {secret_source}"


def test_a_parameter_is_read_once_then_cached(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools caches for max_age=300 s: warm functions do not call SSM on every request."""
    ssm = boto3.client("ssm")
    name = f"/intellipost/test/gemini-{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=name, Value="first-key", Type="SecureString")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY_PARAMETER", name)

    assert secret("GEMINI_API_KEY") == "first-key"
    ssm.put_parameter(Name=name, Value="rotated-key", Type="SecureString", Overwrite=True)
    assert secret("GEMINI_API_KEY") == "first-key", "read from the cache, not SSM"
    monkeypatch.setenv("GEMINI_API_KEY", "from-the-environment")
    assert secret("GEMINI_API_KEY") == "from-the-environment", "locally the environment wins"
