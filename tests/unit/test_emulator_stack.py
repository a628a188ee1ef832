"""What infra/deploy/emulator.py needs from the machine, and how it splits the stack for moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.deploy.emulator import (
    EDGE_FILES,
    EmulatorStack,
    EmulatorStackError,
    edge_stand_in,
    lost_creations,
    provider_override,
    requirements_problem,
    without_edge,
)
from infra.local.environment import ROOT


def test_a_machine_without_terraform_or_the_provider_is_told_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TERRAFORM", str(tmp_path / "no-terraform"))
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(tmp_path / "no-mirror"))
    problem = requirements_problem()
    assert problem is not None
    assert f"Terraform is not on PATH (looked for `{tmp_path / 'no-terraform'}`)" in problem
    assert f"looked in {tmp_path / 'no-mirror'}" in problem and "set TF_PROVIDER_MIRROR" in problem


def test_a_mirror_with_the_aws_provider_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    provider = tmp_path / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    provider.mkdir(parents=True)
    (provider / "terraform-provider-aws_v5.100.0_x5").write_bytes(b"")
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(tmp_path))
    monkeypatch.setenv("TERRAFORM", "sh")  # any executable on PATH stands for it here
    assert requirements_problem() is None


def test_the_applied_root_drops_only_the_edge_and_reads_it_from_the_stand_in() -> None:
    merged = {
        "resource": {
            "aws_lambda_function": {"api_handler": {"function_name": "x"}},
            "aws_api_gateway_rest_api": {"rest_api": {"body": "${local.chalice_api_swagger}"}},
            "aws_api_gateway_deployment": {"rest_api": {"stage_name": "api"}},
            "aws_lambda_permission": {
                "rest_api_invoke": {"principal": "apigateway.amazonaws.com"},
                "ingest-s3event": {"principal": "s3.amazonaws.com"},
            },
        },
        "locals": {"chalice_api_swagger": "{}"},
        "output": {"EndpointURL": {"value": "${aws_api_gateway_deployment.rest_api.invoke_url}"}},
    }
    applied = without_edge(merged)
    assert set(applied["resource"]) == {"aws_lambda_function", "aws_lambda_permission"}
    assert list(applied["resource"]["aws_lambda_permission"]) == ["ingest-s3event"]
    assert applied["output"] == {} and applied["locals"] == {}
    stand_in = edge_stand_in("dev")["locals"]
    edge_locals = set()
    for name in EDGE_FILES:
        text = (ROOT / "infra" / "terraform" / name).read_text()
        edge_locals |= {local for local in ("panel_cdn", "api_dimensions") if f"  {local} = " in text}
    assert set(stand_in) == edge_locals == {"panel_cdn", "api_dimensions"}
    endpoints = provider_override("http://127.0.0.1:4566")["provider"]["aws"]["endpoints"][0]
    assert set(endpoints.values()) == {"http://127.0.0.1:4566"} and {"s3", "lambda", "ssm", "sts"} <= set(
        endpoints
    )


# What `terraform apply` printed in a fresh-clone run (tests/e2e/test_stack_in_emulator.py).
ALREADY_THERE = """Error: creating AWS DynamoDB Table (intellipost-dev-products): operation error DynamoDB: \
CreateTable, https response error StatusCode: 400, RequestID: lJgws58t, ResourceInUseException: Table \
already exists: intellipost-dev-products

  with aws_dynamodb_table.products,
  on tables.tf line 5, in resource "aws_dynamodb_table" "products":
   5: resource "aws_dynamodb_table" "products" {
"""


# And in another: a function's alias (CreateAlias answered 409 on the SDK's second send).
ALIAS_THERE = """Error: creating Lambda Alias (live): operation error Lambda: CreateAlias, https response \
error StatusCode: 409, RequestID: cWwMCV8r, api error ConflictException: Alias already exists: \
arn:aws:lambda:us-east-1:123456789012:function:intellipost-dev:live

  with aws_lambda_alias.api_handler,
  on chalice.tf.json line 505, in resource.aws_lambda_alias.api_handler:
 505:       },
"""


def test_what_a_lost_creation_answer_left_behind_is_imported_and_the_apply_goes_on(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []
    failures = [ALREADY_THERE, ALIAS_THERE]  # the first apply, then the second

    class Scripted(EmulatorStack):
        def run(self, root: Path, *args: str, capture: bool = False) -> str:
            calls.append(args[:1] + tuple(a for a in args[1:] if not a.startswith("-")))
            if args[0] == "apply" and failures:
                raise EmulatorStackError(f"`terraform apply` in applied/ failed: {failures.pop(0)}")
            return '{"api_url": {"value": "http://x"}}' if args[0] == "output" else ""

    assert Scripted(tmp_path, "http://127.0.0.1:1", "dev").apply() == {"api_url": "http://x"}
    assert calls == [
        ("apply",),
        ("import", "aws_dynamodb_table.products", "intellipost-dev-products"),
        ("apply",),
        ("import", "aws_lambda_alias.api_handler", "intellipost-dev/live"),
        ("apply",),
        ("output",),
    ]


def test_an_apply_that_keeps_finding_leftovers_stops_and_says_so(tmp_path: Path) -> None:
    class Endless(EmulatorStack):
        def run(self, root: Path, *args: str, capture: bool = False) -> str:
            if args[0] == "apply":
                raise EmulatorStackError(f"`terraform apply` in applied/ failed: {ALIAS_THERE}")
            return ""

    with pytest.raises(EmulatorStackError, match="Alias already exists"):
        Endless(tmp_path, "http://127.0.0.1:1", "dev").apply()


def test_any_other_failed_apply_is_said_as_it_is(tmp_path: Path) -> None:
    class Failing(EmulatorStack):
        def run(self, root: Path, *args: str, capture: bool = False) -> str:
            raise EmulatorStackError("`terraform apply` in applied/ failed: Error: creating Lambda Function")

    with pytest.raises(EmulatorStackError, match="creating Lambda Function"):
        Failing(tmp_path, "http://127.0.0.1:1", "dev").apply()
    assert lost_creations("ResourceInUseException: Table is being updated") == []
