"""`make deploy`'s pre-check of the settings (infra/deploy/settings.py) against the emulator's SSM:
it names every missing setting with where it comes from and the functions that need it, reads SSM
without touching it, and stops the deploy before anything is built or changed."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

import infra.deploy.__main__ as deploy_command
from chalicelib.config import SETTINGS, Source
from infra.deploy.settings import function_environment, missing_settings
from infra.local.environment import CHALICE_CONFIG

STAGE = "dev"
SECRETS = sorted(
    name for name, setting in SETTINGS.items() if setting.source is Source.SECRET and setting.needed_by
)


def parameter_of(name: str) -> str:
    needing = sorted(SETTINGS[name].needed_by)[0]
    return function_environment(STAGE, needing)[f"{name}_PARAMETER"]


@pytest.fixture
def no_stage_secrets(aws: str) -> Any:
    ssm = boto3.client("ssm")
    for name in SECRETS:
        ssm.delete_parameters(Names=[parameter_of(name)])
    yield ssm
    for name in SECRETS:
        ssm.delete_parameters(Names=[parameter_of(name)])


def test_every_missing_setting_is_named_with_its_source_and_who_needs_it(
    no_stage_secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_VAR_mercadolibre_client_id", raising=False)
    lines = missing_settings(STAGE, no_stage_secrets)
    assert {"JWT_SECRET", "MERCADOLIBRE_CLIENT_SECRET", "GEMINI_API_KEY", "PHOTOROOM_API_KEY"} <= set(SECRETS)
    for name in SECRETS:
        [line] = [line for line in lines if line.startswith(f"{name}:")]
        assert parameter_of(name) in line and "put-parameter --type SecureString" in line
        assert f"(needed by {', '.join(sorted(SETTINGS[name].needed_by))})" in line
    assert any(line.startswith("TF_VAR_mercadolibre_client_id: not set") for line in lines)
    assert len(lines) == len(SECRETS) + 1, lines

    for name in SECRETS:
        no_stage_secrets.put_parameter(Name=parameter_of(name), Value="x" * 32, Type="SecureString")
    monkeypatch.setenv("TF_VAR_mercadolibre_client_id", "1234567890123456")
    assert missing_settings(STAGE, no_stage_secrets) == []

    no_stage_secrets.delete_parameters(Names=[parameter_of("GEMINI_API_KEY")])
    [line] = missing_settings(STAGE, no_stage_secrets)
    assert line.startswith("GEMINI_API_KEY:") and line.endswith("(needed by content)")


def test_a_stage_that_names_no_parameter_or_a_retired_model_is_refused(
    no_stage_secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_VAR_mercadolibre_client_id", "1234567890123456")
    config = copy.deepcopy(json.loads(CHALICE_CONFIG.read_text()))
    env = config["stages"][STAGE]["environment_variables"]
    del env["MERCADOLIBRE_CLIENT_ID_PARAMETER"]
    del env["MEDIA_BUCKET"]
    env["GEMINI_MODEL"] = "gemini-2.5-flash"
    lines = missing_settings(STAGE, None, config)
    assert any(
        line.startswith("MERCADOLIBRE_CLIENT_ID: .chalice/config.json must name its SSM parameter")
        and line.endswith("(needed by api_handler, content, publish)")
        for line in lines
    ), lines
    assert any(line.startswith("MEDIA_BUCKET: not in the dev stage's environment") for line in lines)
    assert any(
        line.startswith("GEMINI_MODEL: gemini-2.5-flash is retired") and "set GEMINI_MODEL to" in line
        for line in lines
    )


def test_make_deploy_lists_them_all_and_stops_before_building_or_changing_anything(
    no_stage_secrets: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TF_VAR_mercadolibre_client_id", raising=False)
    touched: list[str] = []
    monkeypatch.setattr(deploy_command, "build_panel", lambda *_, **__: touched.append("panel"))
    monkeypatch.setattr(deploy_command, "deploy", lambda *_, **__: touched.append("deploy"))
    before = no_stage_secrets.describe_parameters()["Parameters"]

    assert deploy_command.main(["--stage", STAGE, "--terraform", "python3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"make deploy STAGE={STAGE} cannot start; missing:")
    for name in [*SECRETS, "TF_VAR_mercadolibre_client_id"]:
        assert f"  - {name}:" in err
    assert touched == []
    assert no_stage_secrets.describe_parameters()["Parameters"] == before
