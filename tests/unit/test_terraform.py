"""infra/terraform agrees with the code: tables with the PynamoDB models, the bucket and the event
functions with `.chalice/config.json` and `app.event_sources`.

The app and the models read bucket and table names from the environment at import, so they are
imported inside the tests, after the local stage's environment is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from infra.local.environment import ROOT, stage_environment
from tests.terraform import STAGE, TERRAFORM_DIR, load_terraform, render

REFERENCE = re.compile(r"^\$\{(?P<type>aws_[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<attr>[a-z_]+)\}$")


# --- reading the Terraform ----------------------------------------------------------------------


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A nested block, always as a list (python-hcl2 gives one list entry per block)."""
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def one_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    found = blocks(body, name)
    assert len(found) == 1, f"expected exactly one {name} block, found {len(found)}"
    return found[0]


def referenced(value: Any, resource_type: str) -> str | None:
    """The resource name in `${<resource_type>.<name>.<attr>}`, or None."""
    match = REFERENCE.match(value) if isinstance(value, str) else None
    return match["name"] if match and match["type"] == resource_type else None


def dev_name_for(local_value: str, local_env: dict[str, str], before: dict[str, str]) -> str:
    """The dev value of the variable a model's (local) table name came from."""
    for env in (local_env, before):
        names = [key for key, value in env.items() if value == local_value]
        if names:
            dev_env = stage_environment(STAGE)
            assert names[0] in dev_env, f"{names[0]} is not set for stage {STAGE} in .chalice/config.json"
            return dev_env[names[0]]
    raise AssertionError(f"no stage variable holds the table name {local_value!r}")


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The local stage's environment, set before `app` or the models are imported."""
    env = stage_environment("local")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="module")
def terraform() -> dict[str, dict[str, Any]]:
    return load_terraform()


# --- tables -------------------------------------------------------------------------------------


def _table_errors(model: Any, table: dict[str, Any]) -> list[str]:
    from pynamodb.indexes import GlobalSecondaryIndex, LocalSecondaryIndex

    errors: list[str] = []
    schema = model._get_schema()
    label = model.__name__

    def check(what: str, actual: Any, expected: Any, source: str = "in the model") -> None:
        if actual != expected:
            errors.append(f"{label}: {what} is {actual!r} in Terraform, {expected!r} {source}")

    check("hash_key", table.get("hash_key"), model._hash_keyname)
    check("range_key", table.get("range_key"), model._range_keyname)
    check("billing_mode", table.get("billing_mode"), "PAY_PER_REQUEST", "required")

    expected_attributes = {
        item["AttributeName"]: item["AttributeType"] for item in schema["attribute_definitions"]
    }
    actual_attributes = {item["name"]: item["type"] for item in blocks(table, "attribute")}
    # Terraform (and DynamoDB) reject attribute definitions that no key uses, so this is exact.
    check("attributes", actual_attributes, expected_attributes)

    for kind, block_name in (
        (GlobalSecondaryIndex, "global_secondary_index"),
        (LocalSecondaryIndex, "local_secondary_index"),
    ):
        expected_indexes = {}
        for index in model._indexes.values():
            if isinstance(index, kind):
                keys = {attr.attr_name: attr for attr in index.Meta.attributes.values()}
                expected_indexes[index.Meta.index_name] = {
                    "hash_key": next((n for n, a in keys.items() if a.is_hash_key), None),
                    "range_key": next((n for n, a in keys.items() if a.is_range_key), None),
                    "projection_type": index.Meta.projection.projection_type,
                }
        actual_indexes = {
            block["name"]: {
                "hash_key": block.get("hash_key"),
                "range_key": block.get("range_key"),
                "projection_type": block.get("projection_type"),
            }
            for block in blocks(table, block_name)
        }
        check(block_name, actual_indexes, expected_indexes)

    check(
        "point_in_time_recovery",
        [b.get("enabled") for b in blocks(table, "point_in_time_recovery")],
        [True],
        "required",
    )
    encryption = blocks(table, "server_side_encryption")
    check("server_side_encryption.enabled", [b.get("enabled") for b in encryption], [True], "required")
    if encryption and referenced(encryption[0].get("kms_key_arn"), "aws_kms_key") is None:
        errors.append(f"{label}: server_side_encryption does not use the project KMS key")
    return errors


def test_every_model_has_a_matching_table(
    terraform: dict[str, dict[str, Any]], local_env: dict[str, str]
) -> None:
    before = dict(os.environ)
    from chalicelib.store.models import ALL_MODELS

    tables = {
        render(body["name"], terraform): body
        for body in terraform["resource"].get("aws_dynamodb_table", {}).values()
    }
    errors: list[str] = []
    for model in ALL_MODELS:
        name = dev_name_for(model.Meta.table_name, local_env, before)
        if name not in tables:
            errors.append(f"{model.__name__}: no aws_dynamodb_table named {name} (found {sorted(tables)})")
            continue
        errors.extend(_table_errors(model, tables[name]))
    assert not errors, "\n".join(errors)


def test_no_table_without_a_model(terraform: dict[str, dict[str, Any]], local_env: dict[str, str]) -> None:
    before = dict(os.environ)
    from chalicelib.store.models import ALL_MODELS

    expected = {dev_name_for(model.Meta.table_name, local_env, before) for model in ALL_MODELS}
    declared = {
        render(body["name"], terraform)
        for body in terraform["resource"].get("aws_dynamodb_table", {}).values()
    }
    assert declared == expected


def test_product_events_expire_by_ttl(terraform: dict[str, dict[str, Any]]) -> None:
    table = terraform["resource"]["aws_dynamodb_table"]["product_events"]
    ttl = one_block(table, "ttl")
    assert ttl == {"attribute_name": "expires_at", "enabled": True}


# --- media bucket -------------------------------------------------------------------------------


def _bucket_settings(terraform: dict[str, dict[str, Any]], setting: str, bucket: str) -> list[dict[str, Any]]:
    """The `setting` resources (e.g. aws_s3_bucket_versioning) attached to aws_s3_bucket.<bucket>."""
    return [
        body
        for body in terraform["resource"].get(setting, {}).values()
        if referenced(body.get("bucket"), "aws_s3_bucket") == bucket
    ]


def test_media_bucket_is_versioned_encrypted_and_private(terraform: dict[str, dict[str, Any]]) -> None:
    media_bucket = stage_environment(STAGE)["MEDIA_BUCKET"]
    buckets = {
        render(body["bucket"], terraform): name
        for name, body in terraform["resource"].get("aws_s3_bucket", {}).items()
    }
    assert media_bucket in buckets, f"no aws_s3_bucket named {media_bucket} (found {sorted(buckets)})"
    bucket = buckets[media_bucket]

    versioning = _bucket_settings(terraform, "aws_s3_bucket_versioning", bucket)
    assert [one_block(v, "versioning_configuration")["status"] for v in versioning] == ["Enabled"]

    encryption = _bucket_settings(terraform, "aws_s3_bucket_server_side_encryption_configuration", bucket)
    assert len(encryption) == 1
    default = one_block(one_block(encryption[0], "rule"), "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] == "aws:kms"
    assert referenced(default["kms_master_key_id"], "aws_kms_key") is not None

    public_access = _bucket_settings(terraform, "aws_s3_bucket_public_access_block", bucket)
    assert len(public_access) == 1
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert public_access[0].get(flag) is True, flag

    lifecycle = _bucket_settings(terraform, "aws_s3_bucket_lifecycle_configuration", bucket)
    assert len(lifecycle) == 1
    rules = blocks(lifecycle[0], "rule")
    jobs = [r for r in rules if [f.get("prefix") for f in blocks(r, "filter")] == ["jobs/"]]
    assert [one_block(r, "expiration")["days"] for r in jobs] == [90]
    assert [
        one_block(r, "noncurrent_version_expiration")["noncurrent_days"]
        for r in rules
        if "noncurrent_version_expiration" in r
    ] == [30]
    assert [
        one_block(r, "abort_incomplete_multipart_upload")["days_after_initiation"]
        for r in rules
        if "abort_incomplete_multipart_upload" in r
    ] == [1]

    cors = _bucket_settings(terraform, "aws_s3_bucket_cors_configuration", bucket)
    assert len(cors) == 1
    rule = one_block(cors[0], "cors_rule")
    # Presigned POST uploads and GET links from the panel, and from nowhere else.
    assert sorted(rule["allowed_methods"]) == ["GET", "POST"]
    assert rule["allowed_origins"] == ["${local.panel_origin}"]

    logging = _bucket_settings(terraform, "aws_s3_bucket_logging", bucket)
    assert [referenced(log["target_bucket"], "aws_s3_bucket") for log in logging] == ["access_logs"]


# --- event functions, KMS, IAM, outputs ---------------------------------------------------------


def test_every_s3_function_is_listed_and_given_up_events_reach_the_failures_function(
    terraform: dict[str, dict[str, Any]], local_env: dict[str, str]
) -> None:
    from chalice.app import S3EventConfig, SQSEventConfig

    from app import app

    event_functions = set(terraform["locals"]["event_functions"])
    handlers = {source.name for source in app.event_sources if isinstance(source, S3EventConfig)}
    assert handlers, "app.event_sources has no S3 handler: the test would prove nothing"
    assert handlers == event_functions, f"local.event_functions differs from {sorted(handlers)}"

    queues = terraform["resource"]["aws_sqs_queue"]
    given_up = queues["step_failures"]
    assert render(given_up["name"], terraform) == "intellipost-dev-step-failures"
    # The failures function reads exactly that queue (chalice names it by STEP_FAILURES_QUEUE).
    (reader,) = [s for s in app.event_sources if isinstance(s, SQSEventConfig)]
    assert reader.name == "failures"
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["stages"]["dev"]["environment_variables"]["STEP_FAILURES_QUEUE"] == render(
        given_up["name"], terraform
    )
    assert given_up["message_retention_seconds"] == 14 * 24 * 3600
    assert referenced(given_up.get("kms_master_key_id"), "aws_kms_key") is not None
    # What the failures function cannot handle either ends in the dead-letter queue (alarmed).
    assert "aws_sqs_queue.dead_letter.arn" in given_up["redrive_policy"]
    assert referenced(queues["dead_letter"].get("kms_master_key_id"), "aws_kms_key") is not None
    assert "step_failures_queue_arn" in terraform["output"]


def test_kms_key_rotates_and_has_the_stage_alias(terraform: dict[str, dict[str, Any]]) -> None:
    keys = terraform["resource"].get("aws_kms_key", {})
    assert len(keys) == 1
    assert next(iter(keys.values()))["enable_key_rotation"] is True
    aliases = [render(a["name"], terraform) for a in terraform["resource"].get("aws_kms_alias", {}).values()]
    assert aliases == ["alias/intellipost-dev"]


def test_every_lambda_function_has_a_policy() -> None:
    terraform = load_terraform()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = set(config["lambda_functions"])
    policies = terraform["resource"].get("aws_iam_policy", {})
    assert functions <= set(policies), f"no aws_iam_policy for {sorted(functions - set(policies))}"
    for function in functions:
        assert f"{function}_policy_arn" in terraform["output"], function


# What each function's code reads through config.secret() (chalicelib/config.py), by function:
# the API (JWT_SECRET, and MERCADOLIBRE_CLIENT_SECRET in the MercadoLibre callback), images
# (PHOTOROOM_API_KEY), content (GEMINI_API_KEY), publish (MERCADOLIBRE_CLIENT_SECRET on refresh).
READS_SECRETS = {"api_handler", "images", "content", "publish"}


def _statements(terraform: dict[str, dict[str, Any]], function: str) -> dict[str, dict[str, Any]]:
    document = terraform["data"]["aws_iam_policy_document"][function]
    return {statement["sid"]: statement for statement in blocks(document, "statement")}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_function_runs_with_its_own_role_and_least_privilege_policy(
    terraform: dict[str, dict[str, Any]],
) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = set(config["lambda_functions"])
    roles = terraform["resource"].get("aws_iam_role", {})
    attachments = terraform["resource"].get("aws_iam_role_policy_attachment", {})
    trust = one_block(terraform["data"]["aws_iam_policy_document"]["lambda_trust"], "statement")
    assert one_block(trust, "principals")["identifiers"] == ["lambda.amazonaws.com"]
    assert trust["actions"] == ["sts:AssumeRole"]
    for function in sorted(functions):
        assert function in roles, f"no aws_iam_role.{function} in iam.tf"
        assert roles[function]["assume_role_policy"] == "${data.aws_iam_policy_document.lambda_trust.json}"
        attached = [
            body["policy_arn"]
            for body in attachments.values()
            if body["role"] == f"${{aws_iam_role.{function}.name}}"
        ]
        assert attached == [f"${{aws_iam_policy.{function}.arn}}"], (function, attached)

        statements = _statements(terraform, function)
        logs = statements.get("Logs")
        assert logs and set(logs["actions"]) == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:CreateLogGroup",
        }
        assert logs["resources"] == [f'${{local.log_group_arns["{function}"]}}'], function
        for sid, statement in statements.items():
            for action in statement["actions"]:
                assert "*" not in action, f"{function}: {sid} allows {action}"
            assert "*" not in _as_list(statement["resources"]), f"{function}: {sid} on every resource"
        if function in READS_SECRETS:
            secrets = statements.get("Secrets")
            assert secrets, f"{function} reads a secret from SSM but may not"
            assert secrets["actions"] == ["ssm:GetParameter"]
            assert secrets["resources"] == ["${local.secret_parameters_arn}"]
            assert "kms:Decrypt" in statements["Key"]["actions"], f"{function} cannot decrypt its secrets"
        else:
            assert "Secrets" not in statements, f"{function} reads no secret"
    assert set(roles) == functions, f"roles without a function: {sorted(set(roles) - functions)}"
    parameters = terraform["locals"]["secret_parameters_arn"]
    assert parameters.endswith(":parameter/intellipost/${var.stage}/*")


def test_s3_functions_may_send_their_given_up_events_to_the_step_failures_queue(
    terraform: dict[str, dict[str, Any]],
) -> None:
    for function in terraform["locals"]["event_functions"]:
        statements = _statements(terraform, function)
        assert statements["GivenUp"]["actions"] == ["sqs:SendMessage"]
        assert statements["GivenUp"]["resources"] == ["${aws_sqs_queue.step_failures.arn}"]
        # The queue is encrypted with the stage key: sending needs a data key from it.
        assert {"kms:GenerateDataKey", "kms:Decrypt"} <= set(statements["Key"]["actions"]), function
        assert statements["Key"]["resources"] == ["${aws_kms_key.main.arn}"]
    reading = _statements(terraform, "failures")["GivenUpEvents"]
    assert reading["resources"] == ["${aws_sqs_queue.step_failures.arn}"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_names_our_roles_and_a_regional_api(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    settings = config["stages"][stage]
    assert settings["manage_iam_role"] is False, "chalice must not generate a role"
    assert "autogen_policy" not in settings
    # CloudFront (panel.tf) fronts the API; an EDGE endpoint would put a second distribution behind it.
    assert settings["api_gateway_endpoint_type"] == "REGIONAL"
    for function in config["lambda_functions"]:
        assert settings["lambda_functions"][function]["iam_role_arn"] == f"${{aws_iam_role.{function}.arn}}"


def test_stage_is_validated_and_outputs_hold_no_secrets(terraform: dict[str, dict[str, Any]]) -> None:
    stage = terraform["variable"]["stage"]
    condition = one_block(stage, "validation")["condition"]
    assert '"dev"' in condition and '"prod"' in condition
    for name, output in terraform["output"].items():
        assert not re.search(r"secret|password|token|api_key", name, re.IGNORECASE), name
        assert "sensitive" not in output, name


# --- together with chalice.tf.json ---------------------------------------------------------------

# A Terraform version constraint: comma-separated clauses such as ">= 4.67", "< 5", "~> 1.3".
CLAUSE = re.compile(r"^\s*(?P<op>>=|<=|!=|~>|>|<|=)?\s*(?P<version>\d+(?:\.\d+){0,2})\s*$")
Version = tuple[int, int, int]


def _version(text: str) -> Version:
    major, minor, patch = [*(int(part) for part in text.split(".")), 0, 0][:3]
    return major, minor, patch


def allows(constraint: str, version: Version) -> bool:
    """Whether `version` meets every clause of a Terraform version constraint."""
    for clause in constraint.split(","):
        match = CLAUSE.match(clause)
        assert match, f"cannot read the version constraint {constraint!r}"
        op, bound = match["op"] or "=", _version(match["version"])
        if op == "~>":
            # ~> 4.67 allows 4.67 up to, not including, 5.0; ~> 4.67.1 up to 4.68.0.
            precision = match["version"].count(".")
            upper = (bound[0] + 1, 0, 0) if precision <= 1 else (bound[0], bound[1] + 1, 0)
            ok = bound <= version < upper
        else:
            ok = {
                ">=": version >= bound,
                ">": version > bound,
                "<=": version <= bound,
                "<": version < bound,
                "=": version == bound,
                "!=": version != bound,
            }[op]
        if not ok:
            return False
    return True


def test_version_constraints_are_read_the_way_terraform_reads_them() -> None:
    assert allows(">= 4.67, < 5", (4, 67, 0)) and allows(">= 4.67, < 5", (4, 99, 9))
    assert not allows(">= 4.67, < 5", (5, 0, 0)) and not allows(">= 4.67, < 5", (4, 66, 9))
    assert allows("~> 5.0", (5, 100, 0)) and not allows("~> 5.0", (6, 0, 0))
    assert allows("~> 1.3.2", (1, 3, 9)) and not allows("~> 1.3.2", (1, 4, 0))
    assert not allows(">= 0.12.26, < 1.4.0", (1, 5, 0))


@pytest.fixture(scope="module")
def chalice_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """chalice.tf.json as `chalice package --pkg-format terraform --stage dev` writes it.

    Chalice's own packager, in process; only the deployment zip (pip, wheels, seconds) is replaced
    by an empty file, since the template names the zip and nothing in it.
    """
    from chalice.cli.factory import CLIFactory
    from chalice.deploy import packager

    out = tmp_path_factory.mktemp("chalice-package")
    placeholder = out / "deployment.zip"
    placeholder.write_bytes(b"")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for key, value in stage_environment("local").items():
            patch.setenv(key, value)  # app.py reads its table and bucket names at import
        factory = CLIFactory(project_dir=str(ROOT))
        config = factory.create_config_obj(chalice_stage_name=STAGE)
        app_packager = factory.create_app_packager(
            config, factory.create_package_options(), "terraform", "json"
        )
        patch.setattr(
            packager.LambdaDeploymentPackager, "create_deployment_package", lambda *_: str(placeholder)
        )
        app_packager.package_app(config, str(out / "terraform"), STAGE)
    template: dict[str, Any] = json.loads((out / "terraform" / "chalice.tf.json").read_text())
    return template


# What the stack is applied with in `make test` (infra/deploy/emulator.py): Terraform 1.11 and the
# AWS provider 5.100 from the machine's provider mirror.
APPLIED_WITH = {"terraform": (1, 11, 0), "aws": (5, 100, 0)}


def test_the_merged_stack_needs_only_the_providers_main_tf_declares(
    terraform: dict[str, dict[str, Any]], chalice_template: dict[str, Any]
) -> None:
    # The deploy drops chalice's `terraform` block (a module declares required_providers once; it
    # pins AWS < 5 and Terraform < 1.4) and its unused null_data_source, so main.tf alone says which
    # providers, in the versions the emulator run applies the whole stack with.
    from infra.deploy.terraform import merge

    merged = merge(chalice_template, stage_environment(STAGE)["MEDIA_BUCKET"])
    used = {
        type_name.split("_")[0]
        for document in (merged, terraform)
        for kind in ("resource", "data")
        for type_name in document.get(kind, {})
    }
    [ours] = terraform["terraform"]["required_providers"]
    assert used == set(ours) == {"aws"}, used
    assert allows(ours["aws"]["version"], APPLIED_WITH["aws"])
    assert allows(terraform["terraform"]["required_version"], APPLIED_WITH["terraform"])
    assert "terraform" not in merged and "null_data_source" not in merged.get("data", {})


def test_no_name_is_declared_both_by_chalice_and_by_these_files(
    terraform: dict[str, dict[str, Any]], chalice_template: dict[str, Any]
) -> None:
    clashes = []
    for kind in ("resource", "data"):
        for type_name, named in chalice_template.get(kind, {}).items():
            clashes += [f"{kind}.{type_name}.{n}" for n in named if n in terraform[kind].get(type_name, {})]
    for kind in ("locals", "output", "variable"):
        clashes += [f"{kind}.{n}" for n in chalice_template.get(kind, {}) if n in terraform[kind]]
    assert chalice_template["resource"]["aws_lambda_function"], "the generated template has no function"
    assert not clashes, clashes


def test_what_these_files_use_from_chalice_exists_there(chalice_template: dict[str, Any]) -> None:
    used = {
        (match[1], match[2])
        for path in TERRAFORM_DIR.glob("*.tf")
        for match in re.finditer(
            r"\b(aws_lambda_function|aws_api_gateway_rest_api|aws_api_gateway_deployment)\.([A-Za-z0-9_-]+)\.",
            path.read_text(),
        )
    }
    assert ("aws_api_gateway_rest_api", "rest_api") in used
    missing = [f"{t}.{n}" for t, n in sorted(used) if n not in chalice_template["resource"].get(t, {})]
    assert not missing, f"not in chalice.tf.json: {missing}"


def test_the_generated_functions_run_with_our_roles_and_log_where_the_policies_allow(
    terraform: dict[str, dict[str, Any]], chalice_template: dict[str, Any]
) -> None:
    resources = chalice_template["resource"]
    assert "aws_iam_role" not in resources and "aws_iam_role_policy" not in resources
    names = terraform["locals"]["function_names"]
    for function, body in resources["aws_lambda_function"].items():
        assert body["role"] == f"${{aws_iam_role.{function}.arn}}"
        # The Logs statement names the log group Lambda writes to: /aws/lambda/<function_name>.
        assert render(names[function], terraform) == body["function_name"], function
    assert set(names) == set(resources["aws_lambda_function"])


def test_the_panel_reaches_the_regional_api_through_its_stage(
    terraform: dict[str, dict[str, Any]], chalice_template: dict[str, Any]
) -> None:
    rest_api = chalice_template["resource"]["aws_api_gateway_rest_api"]["rest_api"]
    assert rest_api["endpoint_configuration"]["types"] == ["REGIONAL"]
    distribution = terraform["resource"]["aws_cloudfront_distribution"]["panel"]
    [api] = [
        origin for origin in blocks(distribution, "origin") if origin["origin_id"] == "${local.api_origin_id}"
    ]
    assert (
        api["domain_name"]
        == "${aws_api_gateway_rest_api.rest_api.id}.execute-api.${var.region}.amazonaws.com"
    )
    assert api["origin_path"] == "/${aws_api_gateway_deployment.rest_api.stage_name}"
    deployment = chalice_template["resource"]["aws_api_gateway_deployment"]["rest_api"]
    assert deployment["stage_name"] == "api"


# --- backups ------------------------------------------------------------------------------------


def test_every_table_has_point_in_time_recovery(terraform: dict[str, dict[str, Any]]) -> None:
    from chalicelib.store.models import ALL_MODELS

    tables = terraform["resource"]["aws_dynamodb_table"]
    assert len(tables) == len(ALL_MODELS) == 11
    without = [
        name
        for name, table in tables.items()
        if blocks(table, "point_in_time_recovery") != [{"enabled": True}]
    ]
    assert not without, f"no point-in-time recovery: {without}"


def test_the_panel_bucket_is_private_versioned_and_read_only_by_its_distribution(
    terraform: dict[str, dict[str, Any]],
) -> None:
    versioning = _bucket_settings(terraform, "aws_s3_bucket_versioning", "panel")
    assert [one_block(v, "versioning_configuration")["status"] for v in versioning] == ["Enabled"]
    [lifecycle] = _bucket_settings(terraform, "aws_s3_bucket_lifecycle_configuration", "panel")
    [rule] = blocks(lifecycle, "rule")
    assert one_block(rule, "noncurrent_version_expiration")["noncurrent_days"] == 30
    [public_access] = _bucket_settings(terraform, "aws_s3_bucket_public_access_block", "panel")
    assert all(public_access[flag] is True for flag in ("block_public_acls", "block_public_policy"))

    [reader] = [
        s
        for s in blocks(terraform["data"]["aws_iam_policy_document"]["panel_bucket"], "statement")
        if "effect" not in s
    ]
    assert reader["actions"] == ["s3:GetObject"]
    assert one_block(reader, "principals")["identifiers"] == ["cloudfront.amazonaws.com"]
    condition = one_block(reader, "condition")
    assert condition["variable"] == "AWS:SourceArn"
    assert condition["values"] == ["${local.panel_cdn.arn}"]
    assert terraform["locals"]["panel_cdn"]["arn"] == "${aws_cloudfront_distribution.panel.arn}"


# --- alarms -------------------------------------------------------------------------------------


def _alarm(terraform: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    alarm: dict[str, Any] = terraform["resource"]["aws_cloudwatch_metric_alarm"][name]
    assert alarm["alarm_actions"] == "${local.alarm_actions}", f"{name} notifies no one"
    assert terraform["locals"]["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]
    return alarm


def test_a_message_in_the_dead_letter_queue_raises_an_alarm(terraform: dict[str, dict[str, Any]]) -> None:
    alarm = _alarm(terraform, "dead_letters")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": "${aws_sqs_queue.dead_letter.name}"}
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_every_function_has_an_error_and_a_throttle_alarm(terraform: dict[str, dict[str, Any]]) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    # local.function_names is compared with chalice.tf.json's functions elsewhere in this file.
    assert set(terraform["locals"]["function_names"]) == set(config["lambda_functions"])
    for alarm_name, metric in (("function_errors", "Errors"), ("function_throttles", "Throttles")):
        alarm = _alarm(terraform, alarm_name)
        assert alarm["for_each"] == "${local.function_names}"
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/Lambda", metric, "Sum")
        assert alarm["dimensions"] == {"FunctionName": "${each.value}"}
        assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_the_api_has_a_5xx_rate_and_a_p99_latency_alarm(terraform: dict[str, dict[str, Any]]) -> None:
    errors = _alarm(terraform, "api_5xx_rate")
    assert (errors["namespace"], errors["metric_name"], errors["statistic"]) == (
        "AWS/ApiGateway",
        "5XXError",
        "Average",
    )
    assert errors["threshold"] == "${local.api_5xx_rate_threshold}"
    assert 0 < terraform["locals"]["api_5xx_rate_threshold"] < 1  # a share of requests
    latency = _alarm(terraform, "api_p99_latency")
    assert (latency["metric_name"], latency["extended_statistic"]) == ("Latency", "p99")
    for alarm in (errors, latency):
        assert alarm["dimensions"] == "${local.api_dimensions}"
    assert terraform["locals"]["api_dimensions"] == {
        "ApiName": "${aws_api_gateway_rest_api.rest_api.name}",
        "Stage": "${aws_api_gateway_deployment.rest_api.stage_name}",
    }


def test_ai_cost_per_day_above_the_budget_raises_an_alarm(terraform: dict[str, dict[str, Any]]) -> None:
    environment = json.loads((ROOT / ".chalice" / "config.json").read_text())["environment_variables"]
    alarm = _alarm(terraform, "ai_daily_cost")
    # Where Powertools publishes the app's AiCostUsd: the configured namespace, dimension service.
    assert alarm["namespace"] == environment["POWERTOOLS_METRICS_NAMESPACE"] == "IntelliPost"
    assert alarm["dimensions"] == {"service": environment["POWERTOOLS_SERVICE_NAME"]}
    assert (alarm["metric_name"], alarm["statistic"], alarm["period"]) == ("AiCostUsd", "Sum", 86400)
    assert (alarm["comparison_operator"], alarm["threshold"]) == (
        "GreaterThanThreshold",
        "${var.ai_daily_budget_usd}",
    )
    assert "ai_daily_budget_usd" in terraform["variable"]


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(
    terraform: dict[str, dict[str, Any]],
) -> None:
    topic = terraform["resource"]["aws_sns_topic"]["alarms"]
    assert referenced(topic["kms_master_key_id"], "aws_kms_key") == "main"
    statements = blocks(terraform["data"]["aws_iam_policy_document"]["key"], "statement")
    cloudwatch = [
        s for s in statements if one_block(s, "principals")["identifiers"] == ["cloudwatch.amazonaws.com"]
    ]
    assert [sorted(s["actions"]) for s in cloudwatch] == [["kms:Decrypt", "kms:GenerateDataKey*"]]
    subscription = terraform["resource"]["aws_sns_topic_subscription"]["alarm_email"]
    assert subscription["count"] == '${var.alarm_email == "" ? 0 : 1}'


# --- edge ---------------------------------------------------------------------------------------


def test_the_api_is_throttled_per_stage_and_tighter_on_creation_and_uploads(
    terraform: dict[str, dict[str, Any]], chalice_template: dict[str, Any]
) -> None:
    settings = terraform["resource"]["aws_api_gateway_method_settings"]
    everything = settings["all"]
    assert everything["method_path"] == "*/*"
    assert one_block(everything, "settings")["throttling_rate_limit"] == "${local.api_throttle.rate}"
    assert terraform["locals"]["api_throttle"] == {"rate": 10, "burst": 20}

    routes = terraform["locals"]["api_route_throttles"]
    assert {(r["method"], r["path"]) for r in routes.values()} == {
        ("POST", "/api/v1/products"),
        ("POST", "/api/v1/products/{product_id}/images"),
    }
    assert all((r["rate"], r["burst"]) == (2, 5) for r in routes.values())
    route = settings["route"]
    assert route["for_each"] == "${local.api_route_throttles}"
    assert route["method_path"] == '${replace(each.value.path, "/", "~1")}/${each.value.method}'
    assert one_block(route, "settings")["throttling_burst_limit"] == "${each.value.burst}"
    for resource in settings.values():
        assert resource["stage_name"] == "${aws_api_gateway_deployment.rest_api.stage_name}"

    # The throttled routes are routes the API really has.
    swagger = json.loads(chalice_template["locals"]["chalice_api_swagger"])
    for r in routes.values():
        assert r["method"].lower() in swagger["paths"].get(r["path"], {}), (
            f"no route {r['method']} {r['path']}"
        )


def test_the_panel_is_served_over_https_from_a_private_bucket(terraform: dict[str, dict[str, Any]]) -> None:
    distribution = terraform["resource"]["aws_cloudfront_distribution"]["panel"]
    assert distribution["default_root_object"] == "index.html"
    origins = {origin["origin_id"]: origin for origin in blocks(distribution, "origin")}
    bucket_origin = origins["${local.panel_origin_id}"]
    assert (
        referenced(bucket_origin["origin_access_control_id"], "aws_cloudfront_origin_access_control")
        == "panel"
    )
    api_origin = one_block(origins["${local.api_origin_id}"], "custom_origin_config")
    assert api_origin["origin_protocol_policy"] == "https-only"

    panel = one_block(distribution, "default_cache_behavior")
    assert panel["viewer_protocol_policy"] == "redirect-to-https"
    [api] = blocks(distribution, "ordered_cache_behavior")
    assert (api["path_pattern"], api["viewer_protocol_policy"]) == ("/api/*", "https-only")
    assert panel["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.panel.id}"
    assert "response_headers_policy_id" not in api  # the API's own headers (chalicelib/http.py) stand
    # The SPA fallback is a viewer-request function on the panel only: an error page rewrite would
    # also turn the API's JSON 403/404 into the panel page.
    [association] = blocks(panel, "function_association")
    assert association == {
        "event_type": "viewer-request",
        "function_arn": "${aws_cloudfront_function.panel_routes.arn}",
    }
    assert "custom_error_response" not in distribution
    assert "panel_url" in terraform["output"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the CloudFront function")
def test_panel_routes_get_index_html_and_files_stay_files(terraform: dict[str, dict[str, Any]]) -> None:
    heredoc = terraform["resource"]["aws_cloudfront_function"]["panel_routes"]["code"]
    code = re.fullmatch(r"<<-?(\w+)\n(?P<body>.*)\n\s*\1\s*", heredoc, re.DOTALL)["body"]  # type: ignore[index]
    uris = ["/", "/products/abc123", "/login", "/_app/immutable/entry/start.Bx1.js", "/favicon.svg"]
    script = (
        code
        + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)))"
    )
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(result.stdout) == [
        "/index.html",
        "/index.html",
        "/index.html",
        "/_app/immutable/entry/start.Bx1.js",
        "/favicon.svg",
    ]


def test_the_panel_headers_policy(terraform: dict[str, dict[str, Any]]) -> None:
    policy = terraform["resource"]["aws_cloudfront_response_headers_policy"]["panel"]
    headers = one_block(policy, "security_headers_config")
    hsts = one_block(headers, "strict_transport_security")
    assert hsts["access_control_max_age_sec"] == 365 * 24 * 3600
    assert hsts["include_subdomains"] is True and hsts["preload"] is True and hsts["override"] is True
    assert one_block(headers, "frame_options")["frame_option"] == "DENY"
    assert one_block(headers, "content_type_options")["override"] is True
    assert one_block(headers, "referrer_policy")["referrer_policy"] == "strict-origin-when-cross-origin"
    assert one_block(headers, "content_security_policy")["content_security_policy"] == "${local.panel_csp}"

    csp = terraform["locals"]["panel_csp_directives"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    # The panel itself (which also serves /api/*) and the media bucket, where presigned forms point.
    assert csp["connect-src"] == """${concat(["'self'"], local.media_origins)}"""
    assert csp["img-src"] == """${concat(["'self'", "data:", "blob:"], local.media_origins)}"""
    assert "https://${aws_s3_bucket.media.bucket_domain_name}" in terraform["locals"]["media_origins"]
    # Scripts are the page's <meta> policy's (SvelteKit's boot script hash): no header loophole.
    assert not {"script-src", "default-src"} & set(csp)
    assert "unsafe-eval" not in str(csp)
    assert [name for name, sources in csp.items() if "'unsafe-inline'" in sources] == ["style-src"]


def test_every_checkov_skip_says_why() -> None:
    config = (TERRAFORM_DIR / ".checkov.yaml").read_text().splitlines()
    skips = [line.strip() for line in config if re.match(r"^\s*-\s*CKV", line)]
    assert skips, "no skipped checks listed"
    unexplained = [line for line in skips if not re.search(r"CKV\w+\s+#\s*\S.{20,}", line)]
    assert not unexplained, f"skipped in .checkov.yaml without a reason: {unexplained}"

    inline = [
        (path.name, match[1], match[2])
        for path in TERRAFORM_DIR.glob("*.tf")
        for match in re.finditer(r"#\s*checkov:skip=(\w+)(?::(.*))?", path.read_text())
    ]
    unexplained = [f"{name}: {check}" for name, check, reason in inline if len((reason or "").strip()) < 20]
    assert not unexplained, f"skipped in a resource without a reason: {unexplained}"


def test_every_function_logs_to_an_encrypted_group_that_expires(terraform: dict[str, dict[str, Any]]) -> None:
    group = terraform["resource"]["aws_cloudwatch_log_group"]["functions"]
    assert group["for_each"] == "${local.function_names}"
    assert group["name"] == "/aws/lambda/${each.value}"
    assert group["retention_in_days"] == "${var.log_retention_days}"
    assert terraform["variable"]["log_retention_days"]["default"] > 0
    assert group["kms_key_id"] == "${aws_kms_key.main.arn}"
    statements = terraform["data"]["aws_iam_policy_document"]["key"]["statement"]
    logs = next(s for s in statements if s.get("sid") == "CloudWatchLogsOfThisStage")
    assert logs["principals"][0]["identifiers"] == ["logs.${var.region}.amazonaws.com"]
