"""`make deploy`'s logic against the emulator: backups, versions, the `live` alias, rollback.

AWS cannot be reached here, so Terraform is replaced at its seam by a stand-in that does to the
emulator's Lambda what an apply does (create the functions, then change their `$LATEST` code);
everything after it (publishing, aliases, the smoke check over HTTP, rollback) is the real code.
The Terraform seam itself is checked with a fake `terraform` executable that records its calls.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.deploy.__main__ import deploy
from infra.deploy.backup import back_up_tables, stage_tables
from infra.deploy.release import LIVE, live_version
from infra.deploy.smoke import judge, smoke_check
from infra.deploy.terraform import MODULE_DIR, Terraform, TerraformError, merge
from infra.local.emulator import free_port
from tests.unit.test_terraform import load_terraform

FAST_SMOKE = partial(smoke_check, attempts=2, wait_seconds=0)


def code_zip(marker: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"MARKER = {marker!r}\ndef handler(event, context):\n    return MARKER\n")
    return buffer.getvalue()


class ApplyInEmulator:
    """What `terraform apply` does to the functions: creates them once, then replaces their code."""

    def __init__(self, endpoint: str, prefix: str) -> None:
        self.endpoint = endpoint
        self.names = {name: f"{prefix}-{name}" for name in ("api_handler", "ingest", "images")}
        self.applies = 0
        self.lambda_client = boto3.client("lambda")
        iam = boto3.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        self.role = iam.create_role(RoleName=f"{prefix}-role", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]

    def apply(self, stage: str) -> dict[str, Any]:
        self.applies += 1
        code = code_zip(f"{stage}-{self.applies}")
        for function in self.names.values():
            if self.applies == 1:
                self.lambda_client.create_function(
                    FunctionName=function,
                    Runtime="python3.11",
                    Role=self.role,
                    Handler="app.handler",
                    Code={"ZipFile": code},
                )
            else:
                self.lambda_client.update_function_code(FunctionName=function, ZipFile=code)
        return {"function_names": self.names, "EndpointURL": self.endpoint}


class HealthServer:
    """The deployed API's health route over real HTTP, answering what `answer()` returns."""

    def __init__(self, answer: Any) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                status, body = answer(self.path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HealthServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def real_health(api: Any) -> Iterator[HealthServer]:
    """The app's own /health/detailed (stage `local`, the emulator's tables), relayed over HTTP."""

    def answer(path: str) -> tuple[int, Any]:
        assert path == "/api/api/v1/health/detailed"
        response = api.call("GET", "/health/detailed")
        return response.status_code, response.json

    with HealthServer(answer) as server:
        yield server


def degraded(path: str) -> tuple[int, Any]:
    """What the health route answers when a table is missing (see chalicelib/health.py)."""
    return 503, {
        "status": "degraded",
        "stage": "local",
        "tables": {
            "intellipost-local-products": {"ok": False, "error": "ResourceNotFoundException"},
            "intellipost-local-users": {"ok": True, "ms": 2.0},
        },
        "buckets": {"intellipost-local-media": {"ok": True, "ms": 1.0}},
        "providers": {},
    }


def aliases(infra: ApplyInEmulator) -> dict[str, str | None]:
    return {name: live_version(infra.lambda_client, function) for name, function in infra.names.items()}


def run_deploy(infra: ApplyInEmulator, lines: list[str], smoke: Any = FAST_SMOKE) -> int:
    return deploy(
        "local",
        infra,
        boto3.client("lambda"),
        boto3.client("dynamodb"),
        smoke=smoke,
        say=lines.append,
        label=f"test-{uuid.uuid4().hex[:8]}",
    )


# -- versions, aliases, rollback ---------------------------------------------------------------------


def test_the_first_deploy_creates_live_aliases_and_the_second_moves_them(
    provisioned: str, real_health: HealthServer
) -> None:
    infra = ApplyInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}")
    lines: list[str] = []

    assert run_deploy(infra, lines) == 0, "\n".join(lines)
    first = aliases(infra)
    assert set(first.values()) == {"1"}
    assert real_health.requests == ["/api/api/v1/health/detailed"]

    assert run_deploy(infra, lines) == 0, "\n".join(lines)
    assert set(aliases(infra).values()) == {"2"}
    # The alias serves the newly published code, not $LATEST by accident.
    for function in infra.names.values():
        alias = infra.lambda_client.get_alias(FunctionName=function, Name=LIVE)
        version = infra.lambda_client.get_function(FunctionName=function, Qualifier=alias["FunctionVersion"])
        latest = infra.lambda_client.get_function(FunctionName=function)
        assert version["Configuration"]["CodeSha256"] == latest["Configuration"]["CodeSha256"]
    assert any("live 1 -> 2" in line for line in lines)


def test_a_failing_smoke_check_moves_every_alias_back_and_says_what_failed(
    provisioned: str, real_health: HealthServer
) -> None:
    infra = ApplyInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}")
    assert run_deploy(infra, []) == 0

    lines: list[str] = []
    with HealthServer(degraded) as broken:
        infra.endpoint = broken.endpoint
        assert run_deploy(infra, lines) == 1

    assert set(aliases(infra).values()) == {"1"}, "every alias is back on the version it had"
    # Version 2 was published (so it can be inspected) but serves nothing.
    for function in infra.names.values():
        versions = infra.lambda_client.list_versions_by_function(FunctionName=function)["Versions"]
        assert {v["Version"] for v in versions} >= {"1", "2"}
    report = "\n".join(lines)
    assert "smoke check failed" in report
    assert "answered 503: table intellipost-local-products: ResourceNotFoundException" in report
    (failure,) = [line for line in lines if "smoke check failed" in line]
    assert "intellipost-local-users" not in failure, "only the failed checks are named"
    assert report.count("live back from 2 to 1") == len(infra.names)


def test_an_api_that_does_not_answer_fails_the_deploy_and_rolls_back(
    provisioned: str, real_health: HealthServer
) -> None:
    infra = ApplyInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}")
    assert run_deploy(infra, []) == 0
    infra.endpoint = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there

    lines: list[str] = []
    assert run_deploy(infra, lines) == 1
    assert set(aliases(infra).values()) == {"1"}
    assert "did not answer (ConnectionError) (after 2 attempts)" in "\n".join(lines)


def test_a_failing_first_deploy_has_nothing_to_go_back_to_and_says_so(provisioned: str) -> None:
    infra = ApplyInEmulator("unused", f"deploy-{uuid.uuid4().hex[:8]}")
    lines: list[str] = []
    with HealthServer(degraded) as broken:
        infra.endpoint = broken.endpoint
        assert run_deploy(infra, lines) == 1
    assert set(aliases(infra).values()) == {"1"}
    assert "\n".join(lines).count("no earlier version, live stays on 1") == len(infra.names)


def test_a_failed_apply_moves_no_alias(provisioned: str, real_health: HealthServer) -> None:
    infra = ApplyInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}")
    assert run_deploy(infra, []) == 0

    class FailingApply:
        def apply(self, stage: str) -> dict[str, Any]:
            raise TerraformError("`terraform apply` failed with exit code 1: Error: creating Lambda Function")

    lines: list[str] = []
    assert run_deploy(FailingApply(), lines) == 1  # type: ignore[arg-type]
    assert set(aliases(infra).values()) == {"1"}
    assert "DEPLOY FAILED at terraform apply" in "\n".join(lines)


# -- the pre-deploy backup ---------------------------------------------------------------------------


def test_the_deploy_backs_up_every_table_of_the_stage_first(
    provisioned: str, real_health: HealthServer
) -> None:
    infra = ApplyInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}")
    label = f"test-{uuid.uuid4().hex[:8]}"
    assert (
        deploy(
            "local",
            infra,
            boto3.client("lambda"),
            boto3.client("dynamodb"),
            FAST_SMOKE,
            lambda _: None,
            label,
        )
        == 0
    )

    dynamodb = boto3.client("dynamodb")
    tables = stage_tables("local")
    assert len(tables) == 11 and "intellipost-local-products" in tables
    for table in tables:
        names = [b["BackupName"] for b in dynamodb.list_backups(TableName=table)["BackupSummaries"]]
        assert names.count(f"{table}-{label}") == 1, (table, names)


def test_a_table_that_does_not_exist_yet_is_reported_not_backed_up(provisioned: str) -> None:
    backups = back_up_tables(boto3.client("dynamodb"), ["intellipost-local-products", "not-created-yet"], "x")
    assert backups[0].backup_arn and backups[1].backup_arn is None


def test_every_stage_names_its_tables() -> None:
    for stage in ("dev", "prod"):
        assert all(f"intellipost-{stage}-" in table for table in stage_tables(stage))
        assert len(stage_tables(stage)) == len(stage_tables("local"))


# -- the smoke check's verdicts ----------------------------------------------------------------------


def test_the_smoke_check_refuses_another_stage_and_non_json() -> None:
    healthy = {"status": "ok", "stage": "dev", "tables": {}, "buckets": {}}
    assert judge(200, healthy, "dev") == ""
    assert judge(200, healthy, "prod") == "answered for stage 'dev', expected 'prod'"
    assert judge(502, None, "dev") == "answered 502 without a JSON object"
    assert judge(500, {"error": {"code": "INTERNAL_ERROR"}}, "dev") == "answered 500: INTERNAL_ERROR"


# -- the Terraform seam ------------------------------------------------------------------------------

FAKE_TERRAFORM = """#!{python}
import json, os, sys
with open(os.environ["FAKE_TERRAFORM_LOG"], "a") as log:
    log.write(json.dumps([os.getcwd(), *sys.argv[1:]]) + "\\n")
if sys.argv[1] == "output":
    print(json.dumps({{"EndpointURL": {{"value": "https://example.invalid/api/"}},
                      "function_names": {{"value": {{"ingest": "intellipost-dev-ingest"}}}}}}))
sys.exit(int(os.environ.get("FAKE_TERRAFORM_EXIT_" + sys.argv[1].upper(), "0")))
"""


@pytest.fixture(scope="module")
def applied(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, list[list[str]], dict[str, Any]]]:
    """The real seam (chalice package, merge, copy) with a `terraform` that only records its calls."""
    folder = tmp_path_factory.mktemp("terraform")
    fake = folder / "terraform"
    fake.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = folder / "calls.jsonl"
    os.environ["FAKE_TERRAFORM_LOG"] = str(log)
    workdir = folder / "work"
    outputs = Terraform(workdir=workdir, executable=str(fake)).apply("dev")
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    yield workdir, calls, outputs
    del os.environ["FAKE_TERRAFORM_LOG"]


def test_the_seam_lays_out_one_root_module_and_applies_it(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    workdir, calls, outputs = applied
    assert {path.name for path in MODULE_DIR.glob("*.tf")} <= {path.name for path in workdir.glob("*.tf")}
    assert (workdir / "deployment.zip").stat().st_size > 0
    assert [call[1] for call in calls] == ["init", "apply", "output"]
    assert all(call[0] == str(workdir) for call in calls)
    assert calls[1][1:5] == ["apply", "-input=false", "-auto-approve", "-var=stage=dev"]
    assert outputs["EndpointURL"] == "https://example.invalid/api/"


def test_a_failing_terraform_step_is_named(
    tmp_path: Path, applied: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir, _, _ = applied
    monkeypatch.setenv("FAKE_TERRAFORM_EXIT_APPLY", "1")
    terraform = Terraform(workdir=workdir, executable=str(workdir.parent / "terraform"))
    terraform.prepare = lambda stage, workdir: None  # type: ignore[method-assign]
    with pytest.raises(TerraformError, match="`terraform apply` failed with exit code 1"):
        terraform.apply("dev")


def test_the_merged_terraform_serves_every_trigger_through_the_live_alias(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    workdir, _, _ = applied
    merged = json.loads((workdir / "chalice.tf.json").read_text())
    text = json.dumps(merged)
    resources = merged["resource"]
    functions = set(resources["aws_lambda_function"])
    assert functions == {"api_handler", "ingest", "images", "content", "publish"}

    assert "terraform" not in merged, "its aws < 5 pin contradicts infra/terraform/main.tf"
    for name in functions:
        assert f"aws_lambda_function.{name}.arn" not in text
        assert f"aws_lambda_function.{name}.invoke_arn" not in text
        alias = resources["aws_lambda_alias"][name]
        assert alias["name"] == LIVE and alias["lifecycle"] == {"ignore_changes": ["function_version"]}
    swagger = json.loads(merged["locals"]["chalice_api_swagger"])
    uris = {
        operation["x-amazon-apigateway-integration"]["uri"]
        for path in swagger["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    }
    assert uris == {"${aws_lambda_alias.api_handler.invoke_arn}"}
    for permission in resources["aws_lambda_permission"].values():
        assert permission["qualifier"] == LIVE
        assert permission["function_name"].endswith(".function_name}")
    (notification,) = resources["aws_s3_bucket_notification"].values()
    assert notification["bucket"] == "${aws_s3_bucket.media.bucket}"
    assert {target["lambda_function_arn"] for target in notification["lambda_function"]} == {
        f"${{aws_lambda_alias.{name}.arn}}" for name in ("ingest", "images", "content", "publish")
    }
    assert len(notification["depends_on"]) == 4
    assert set(merged["output"]["function_names"]["value"]) == functions


def test_every_merged_function_runs_with_its_own_role_once_its_policy_is_attached(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    workdir, _, _ = applied
    resources = json.loads((workdir / "chalice.tf.json").read_text())["resource"]
    assert "aws_iam_role" not in resources and "aws_iam_role_policy" not in resources
    for name, function in resources["aws_lambda_function"].items():
        assert function["role"] == f"${{aws_iam_role.{name}.arn}}"
        assert f"aws_iam_role_policy_attachment.{name}" in function["depends_on"]


def test_failed_events_go_to_each_functions_dead_letter_queue_after_two_retries(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    workdir, _, _ = applied
    resources = json.loads((workdir / "chalice.tf.json").read_text())["resource"]
    configs = resources["aws_lambda_function_event_invoke_config"]
    event_functions = set(load_terraform(MODULE_DIR)["locals"]["event_functions"])
    assert set(configs) == event_functions == {"ingest", "images", "content", "publish"}
    for name, config in configs.items():
        assert config["function_name"] == f"${{aws_lambda_function.{name}.function_name}}"
        # S3 invokes the alias, and an alias has its own asynchronous settings.
        assert config["qualifier"] == f"${{aws_lambda_alias.{name}.name}}"
        assert config["maximum_retry_attempts"] == 2
        destination = config["destination_config"]["on_failure"]["destination"]
        assert destination == f'${{aws_sqs_queue.dead_letter["{name}"].arn}}'


def _generated(applied: tuple[Path, list[list[str]], dict[str, Any]]) -> dict[str, Any]:
    workdir, _, _ = applied
    generated: dict[str, Any] = json.loads((workdir / "chalice-package" / "chalice.tf.json").read_text())
    return generated


def test_a_package_whose_functions_use_chalices_generated_role_is_refused(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    generated = _generated(applied)
    # What chalice writes with its defaults (manage_iam_role true, autogen_policy).
    generated["resource"]["aws_iam_role"] = {"default-role": {"name": "intellipost-dev"}}
    for function in generated["resource"]["aws_lambda_function"].values():
        function["role"] = "${aws_iam_role.default-role.arn}"
    with pytest.raises(TerraformError, match=r"ingest runs as '\$\{aws_iam_role.default-role.arn\}'"):
        merge(generated, "intellipost-dev-media")


def test_a_function_with_another_functions_role_is_refused(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    generated = _generated(applied)
    generated["resource"]["aws_lambda_function"]["publish"]["role"] = "${aws_iam_role.api_handler.arn}"
    with pytest.raises(TerraformError) as refused:
        merge(generated, "intellipost-dev-media")
    assert "publish runs as" in str(refused.value) and "ingest" not in str(refused.value)
    del generated["resource"]["aws_lambda_function"]["publish"]
    assert "publish" not in merge(generated, "intellipost-dev-media")["resource"]["aws_lambda_alias"]


def test_what_the_merge_refers_to_exists_in_infra_terraform(
    applied: tuple[Path, list[list[str]], dict[str, Any]],
) -> None:
    terraform = load_terraform(MODULE_DIR)
    resources = terraform["resource"]
    assert "media" in resources["aws_s3_bucket"]
    functions = set(_generated(applied)["resource"]["aws_lambda_function"])
    assert functions <= set(resources["aws_iam_role"]), "a function without its role in iam.tf"
    assert functions <= set(resources["aws_iam_role_policy_attachment"]), "a role without its policy"
    assert "local.event_functions" in resources["aws_sqs_queue"]["dead_letter"]["for_each"]
    # Nothing the merge adds may clash with the hand-written module.
    assert "aws_lambda_alias" not in resources and "aws_lambda_function" not in resources
