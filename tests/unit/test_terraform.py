"""infra/terraform agrees with the code: tables with the PynamoDB models, the bucket and the event
functions with `.chalice/config.json` and `app.event_sources`.

The app and the models read bucket and table names from the environment at import, so they are
imported inside the tests, after the local stage's environment is set.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from infra.local.environment import stage_environment

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "infra" / "terraform"
STAGE = "dev"
# Plain values: strings without their quotes, nested blocks as lists of dicts, no comments.
HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
REFERENCE = re.compile(r"^\$\{(?P<type>aws_[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<attr>[a-z_]+)\}$")


# --- reading the Terraform ----------------------------------------------------------------------


def load_terraform(directory: Path = TERRAFORM_DIR) -> dict[str, dict[str, Any]]:
    """Every *.tf file merged: {"resource": {type: {name: body}}, "locals": {...}, "output": {...}}."""
    merged: dict[str, dict[str, Any]] = {
        "resource": {},
        "data": {},
        "locals": {},
        "output": {},
        "variable": {},
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
        for kind in ("locals", "output", "variable"):
            for block in document.get(kind, []):
                for key, value in block.items():
                    assert key not in merged[kind], f"{kind} {key} declared twice"
                    merged[kind][key] = value
    return merged


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A nested block, always as a list (python-hcl2 gives one list entry per block)."""
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def one_block(body: dict[str, Any], name: str) -> dict[str, Any]:
    found = blocks(body, name)
    assert len(found) == 1, f"expected exactly one {name} block, found {len(found)}"
    return found[0]


def render(value: str, terraform: dict[str, dict[str, Any]], stage: str = STAGE) -> str:
    """Resolve `${local.name_prefix}` and `${var.stage}` the way Terraform would for `stage`."""
    prefix = terraform["locals"]["name_prefix"].replace("${var.stage}", stage)
    rendered = value.replace("${local.name_prefix}", prefix).replace("${var.stage}", stage)
    assert "${" not in rendered, f"cannot render {value!r}"
    return rendered


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
    from chalicelib.storage.models import ALL_MODELS

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
    from chalicelib.storage.models import ALL_MODELS

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
    assert "POST" in rule["allowed_methods"]
    assert rule["allowed_origins"] == ["${var.panel_origin}"]


# --- event functions, KMS, IAM, outputs ---------------------------------------------------------


def test_every_event_function_has_a_dead_letter_queue(
    terraform: dict[str, dict[str, Any]], local_env: dict[str, str]
) -> None:
    from app import app

    event_functions = set(terraform["locals"]["event_functions"])
    handlers = {source.name for source in app.event_sources}
    assert handlers, "app.event_sources is empty: the test would prove nothing"
    assert handlers <= event_functions, f"no dead-letter queue for {sorted(handlers - event_functions)}"

    queues = [
        body
        for body in terraform["resource"].get("aws_sqs_queue", {}).values()
        if "local.event_functions" in str(body.get("for_each", ""))
    ]
    assert len(queues) == 1, "one aws_sqs_queue with for_each over local.event_functions"
    queue = queues[0]
    assert render(queue["name"].replace("${each.key}", "ingest"), terraform) == "intellipost-dev-ingest-dlq"
    assert queue["message_retention_seconds"] == 14 * 24 * 3600
    assert referenced(queue.get("kms_master_key_id"), "aws_kms_key") is not None
    assert "dead_letter_queue_arns" in terraform["output"]


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


def test_stage_is_validated_and_outputs_hold_no_secrets(terraform: dict[str, dict[str, Any]]) -> None:
    stage = terraform["variable"]["stage"]
    condition = one_block(stage, "validation")["condition"]
    assert '"dev"' in condition and '"prod"' in condition
    for name, output in terraform["output"].items():
        assert not re.search(r"secret|password|token|api_key", name, re.IGNORECASE), name
        assert "sensitive" not in output, name
