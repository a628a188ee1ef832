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
import subprocess
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

from infra.deploy.__main__ import deploy, missing_prerequisites
from infra.deploy.backup import back_up_tables, stage_tables
from infra.deploy.panel import (
    IMMUTABLE,
    PanelError,
    PanelSite,
    build_panel,
    invalidate,
    node_problem,
    restore_panel,
    upload_panel,
)
from infra.deploy.release import LIVE, live_version
from infra.deploy.smoke import judge, judge_panel, panel_check, smoke_check
from infra.deploy.terraform import MODULE_DIR, Terraform, TerraformError, merge
from infra.local.emulator import free_port
from tests.terraform import load_terraform

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


def run_deploy(infra: ApplyInEmulator, lines: list[str], smoke: Any = FAST_SMOKE, **panel: Any) -> int:
    return deploy(
        "local",
        infra,
        boto3.client("lambda"),
        boto3.client("dynamodb"),
        smoke=smoke,
        say=lines.append,
        label=f"test-{uuid.uuid4().hex[:8]}",
        **panel,
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
    assert functions == {"api_handler", "ingest", "images", "content", "publish", "failures", "watchdog"}

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
        assert "aws_cloudwatch_log_group.functions" in function["depends_on"]


def test_given_up_events_go_to_the_step_failures_queue_after_two_retries(
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
        assert destination == "${aws_sqs_queue.step_failures.arn}"


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
    assert {"step_failures", "dead_letter"} <= set(resources["aws_sqs_queue"])
    # Nothing the merge adds may clash with the hand-written module.
    assert "aws_lambda_alias" not in resources and "aws_lambda_function" not in resources


# -- the panel: upload, cache headers, stale files, rollback, invalidation ---------------------------

OLD_BUILD = {
    "index.html": '<script type="module" src="/_app/immutable/entry/start.old111.js"></script>',
    "_app/immutable/entry/start.old111.js": "export const old = 1;",
    "_app/immutable/assets/app.same222.css": "body{margin:0}",
    "_app/version.json": '{"version":"old"}',
    "retired.txt": "only the old build has me",
}
NEW_BUILD = {
    "index.html": '<link rel="stylesheet" href="/_app/immutable/assets/app.same222.css">'
    '<script type="module" src="/_app/immutable/entry/start.new333.js"></script>',
    "_app/immutable/entry/start.new333.js": "export const fresh = 2;",
    "_app/immutable/assets/app.same222.css": "body{margin:0}",
    "_app/version.json": '{"version":"new"}',
    "favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "robots.txt": "User-agent: *",
}


def write_build(folder: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_text(text)
    return folder


def panel_bucket(versioned: bool = True) -> str:
    bucket = f"panel-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def served(bucket: str) -> dict[str, str]:
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys}


class Recorder:
    """An S3 client that records each write (and can fail one), passing everything to the emulator."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.client = boto3.client("s3")
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def put_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"] == self.fail_on:
            raise self.client.exceptions.ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "PutObject"
            )
        self.calls.append(("put", kwargs["Key"]))
        return self.client.put_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.calls.extend(("delete", item["Key"]) for item in kwargs["Delete"]["Objects"])
        return self.client.delete_objects(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_the_panel_is_uploaded_with_its_cache_headers_and_content_types(aws: str, tmp_path: Path) -> None:
    bucket = panel_bucket()
    upload = upload_panel(boto3.client("s3"), bucket, write_build(tmp_path, NEW_BUILD))

    assert served(bucket) == NEW_BUILD
    assert sorted(upload.uploaded) == sorted(NEW_BUILD) and upload.kept == upload.deleted == []
    s3 = boto3.client("s3")
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "_app/immutable/entry/start.new333.js": ("text/javascript; charset=utf-8", IMMUTABLE),
        "_app/immutable/assets/app.same222.css": ("text/css; charset=utf-8", IMMUTABLE),
        "_app/version.json": ("application/json", "no-cache"),
        "favicon.svg": ("image/svg+xml", "no-cache"),
        "robots.txt": ("text/plain; charset=utf-8", "no-cache"),
    }
    for key, (content_type, cache_control) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
    assert IMMUTABLE == "public, max-age=31536000, immutable"


def test_stale_files_go_only_after_every_new_file_is_up_and_index_html_goes_up_last(
    aws: str, tmp_path: Path
) -> None:
    bucket = panel_bucket()
    upload_panel(boto3.client("s3"), bucket, write_build(tmp_path / "old", OLD_BUILD))
    s3 = Recorder()
    upload = upload_panel(s3, bucket, write_build(tmp_path / "new", NEW_BUILD))

    assert served(bucket) == NEW_BUILD
    puts = [key for op, key in s3.calls if op == "put"]
    deletes = [key for op, key in s3.calls if op == "delete"]
    assert s3.calls == [("put", key) for key in puts] + [("delete", key) for key in deletes]
    assert sorted(deletes) == ["_app/immutable/entry/start.old111.js", "retired.txt"] == upload.deleted
    assert puts[0] == "_app/immutable/entry/start.new333.js", "hashed assets first"
    assert puts[-1] == "index.html", "the page that names the assets last"
    # A hashed name already in the bucket has the same content: not sent again.
    assert upload.kept == ["_app/immutable/assets/app.same222.css"]
    assert "_app/immutable/assets/app.same222.css" not in puts


def test_a_failed_upload_leaves_the_old_panel_served_and_restore_removes_the_new_files(
    aws: str, tmp_path: Path
) -> None:
    bucket = panel_bucket()
    upload_panel(boto3.client("s3"), bucket, write_build(tmp_path / "old", OLD_BUILD))
    with pytest.raises(
        PanelError, match=r"uploading the panel to .* failed \(ClientError: .*SlowDown"
    ) as failed:
        upload_panel(Recorder(fail_on="favicon.svg"), bucket, write_build(tmp_path / "new", NEW_BUILD))

    now = served(bucket)
    assert now["index.html"] == OLD_BUILD["index.html"], (
        "index.html goes up last, so the old one still serves"
    )
    assert set(OLD_BUILD) <= set(now), "nothing was deleted before every new file was up"
    upload = failed.value.upload
    assert upload is not None and "_app/immutable/entry/start.new333.js" in upload.added
    restore_panel(boto3.client("s3"), upload)
    assert served(bucket) == OLD_BUILD


def test_restore_brings_back_the_previous_panel_with_its_headers(aws: str, tmp_path: Path) -> None:
    bucket = panel_bucket()
    s3 = boto3.client("s3")
    upload_panel(s3, bucket, write_build(tmp_path / "old", OLD_BUILD))
    upload = upload_panel(s3, bucket, write_build(tmp_path / "new", NEW_BUILD))
    assert served(bucket) == NEW_BUILD

    lines = restore_panel(s3, upload)

    assert served(bucket) == OLD_BUILD
    head = s3.head_object(Bucket=bucket, Key="index.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    assert lines == [
        "panel: 4 files back to the versions they had",
        "panel: 3 files this deploy added removed",
    ]


def test_an_unversioned_bucket_or_a_build_without_index_html_is_refused(aws: str, tmp_path: Path) -> None:
    with pytest.raises(PanelError, match="is not versioned"):
        upload_panel(
            boto3.client("s3"), panel_bucket(versioned=False), write_build(tmp_path / "a", NEW_BUILD)
        )
    no_index = {key: text for key, text in NEW_BUILD.items() if key != "index.html"}
    with pytest.raises(PanelError, match=r"has no index\.html: build the panel first"):
        upload_panel(boto3.client("s3"), panel_bucket(), write_build(tmp_path / "b", no_index))


def panel_distribution() -> str:
    cloudfront = boto3.client("cloudfront")
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "panel",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "panel", "DomainName": "panel.s3.amazonaws.com"}]},
        "DefaultCacheBehavior": {"TargetOriginId": "panel", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def test_cloudfront_forgets_the_entry_page(aws: str) -> None:
    cloudfront = boto3.client("cloudfront")
    distribution = panel_distribution()
    invalidation = invalidate(cloudfront, distribution, f"test-{uuid.uuid4().hex[:8]}")
    paths = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"]
    assert paths["InvalidationBatch"]["Paths"]["Items"] == ["/index.html", "/"]


def test_the_panel_check_wants_the_panel_page() -> None:
    page = '<script type="module" src="/_app/immutable/entry/start.abc.js"></script>'
    assert judge_panel(200, "text/html; charset=utf-8", page) == ""
    assert judge_panel(403, "application/xml", "<Error>AccessDenied</Error>") == "answered 403"
    assert judge_panel(200, "application/json", "{}") == "answered application/json, not text/html"
    assert "does not load the panel" in judge_panel(200, "text/html", "<h1>It works</h1>")


class PanelInEmulator(ApplyInEmulator):
    """An apply that also outputs the panel's bucket and distribution, like panel.tf's outputs."""

    def __init__(self, endpoint: str, prefix: str, panel_url: str) -> None:
        super().__init__(endpoint, prefix)
        self.bucket = panel_bucket()
        self.distribution = panel_distribution()
        self.panel_url = panel_url

    def apply(self, stage: str) -> dict[str, Any]:
        return {
            **super().apply(stage),
            "panel_bucket_name": self.bucket,
            "panel_distribution_id": self.distribution,
            "panel_url": self.panel_url,
        }


def test_a_deploy_uploads_the_panel_and_a_failed_check_brings_the_old_one_back(
    provisioned: str, real_health: HealthServer, tmp_path: Path
) -> None:
    seen: list[str] = []

    def panel_from_bucket(url: str) -> Any:
        """The distribution as the check sees it: the bucket's index.html."""
        seen.append(url)
        page = served(infra.bucket)["index.html"]
        return FAST_PANEL_CHECK(url, get=lambda *_, **__: FakeResponse(page))

    infra = PanelInEmulator(real_health.endpoint, f"deploy-{uuid.uuid4().hex[:8]}", "https://panel.example")
    s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
    lines: list[str] = []
    first = PanelSite(s3, cloudfront, write_build(tmp_path / "old", OLD_BUILD))
    assert run_deploy(infra, lines, panel=first, panel_smoke=panel_from_bucket) == 0, "\n".join(lines)
    assert served(infra.bucket) == OLD_BUILD
    assert seen == ["https://panel.example"]
    assert "panel_url: https://panel.example" in lines
    invalidations = cloudfront.list_invalidations(DistributionId=infra.distribution)["InvalidationList"]
    assert invalidations["Quantity"] == 1

    # The next build's panel page is broken (no assets named): the check fails, and everything goes back.
    broken = {**NEW_BUILD, "index.html": "<h1>blank</h1>"}
    lines = []
    second = PanelSite(s3, cloudfront, write_build(tmp_path / "new", broken))
    assert run_deploy(infra, lines, panel=second, panel_smoke=panel_from_bucket) == 1
    report = "\n".join(lines)
    assert "DEPLOY FAILED: panel check failed" in report and "does not load the panel" in report
    assert set(aliases(infra).values()) == {"1"}
    assert served(infra.bucket) == OLD_BUILD
    assert "panel: 3 files this deploy added removed" in report


class FakeResponse:
    def __init__(self, text: str) -> None:
        self.status_code = 200
        self.headers = {"Content-Type": "text/html; charset=utf-8"}
        self.text = text


FAST_PANEL_CHECK = partial(panel_check, attempts=1, wait_seconds=0)


def test_the_panel_origin_is_optional_but_a_custom_one_must_be_https_with_a_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def panel_lines() -> list[str]:
        missing = missing_prerequisites("dev", sys.executable, None)
        return [line for line in missing if line.startswith("TF_VAR_panel")]

    monkeypatch.delenv("TF_VAR_panel_origin", raising=False)
    monkeypatch.delenv("TF_VAR_panel_certificate_arn", raising=False)
    assert panel_lines() == [], "without it the panel is served at CloudFront's own domain"
    monkeypatch.setenv("TF_VAR_panel_origin", "http://panel.example.com/")
    assert panel_lines()[0].startswith("TF_VAR_panel_origin: 'http://panel.example.com/' must be https://")
    monkeypatch.setenv("TF_VAR_panel_origin", "https://panel.example.com")
    assert panel_lines() == [
        "TF_VAR_panel_certificate_arn: a custom panel origin needs its ACM certificate (us-east-1)"
    ]
    monkeypatch.setenv("TF_VAR_panel_certificate_arn", "arn:aws:acm:us-east-1:123456789012:certificate/x")
    assert panel_lines() == []


def test_an_old_or_missing_node_is_named_with_what_to_install() -> None:
    def node(version: str, code: int = 0) -> Any:
        return lambda *_, **__: subprocess.CompletedProcess(["node"], code, stdout=version, stderr="")

    def missing(*_: Any, **__: Any) -> Any:
        raise FileNotFoundError("node")

    assert node_problem(node("v20.19.0\n")) == node_problem(node("v22.1.0\n")) == ""
    assert "needs 20.19 or newer, found v20.18.1" in node_problem(node("v20.18.1\n"))
    assert "needs 20.19 or newer, found v18.19.0" in node_problem(node("v18.19.0\n"))
    assert "`node` is not on PATH" in node_problem(missing)
    assert "nvm install 22" in node_problem(missing)


def test_the_panel_build_runs_npm_ci_then_build_and_names_what_failed(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        if command[:2] == ["node", "--version"]:
            return subprocess.CompletedProcess(command, 0, stdout="v22.3.0\n", stderr="")
        if command == ["npm", "run", "build"]:
            assert kwargs["cwd"] == tmp_path
            write_build(tmp_path / "build", NEW_BUILD)
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    assert build_panel(tmp_path, run) == tmp_path / "build"
    assert calls[1:] == [["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]]

    def failing(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        code = 0 if command[0] == "node" else 1
        return subprocess.CompletedProcess(command, code, stdout="v22.3.0\n", stderr="")

    with pytest.raises(PanelError, match=r"`npm ci --no-audit --no-fund` in .* failed with exit code 1"):
        build_panel(tmp_path, failing)
