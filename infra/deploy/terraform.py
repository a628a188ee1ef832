"""The Terraform seam: `chalice package` merged with `infra/terraform/*.tf`, then init and apply.

Everything that shells out to `chalice` or `terraform` lives in `Terraform`; the rest of the
deploy only sees `Terraform.apply(stage) -> outputs`, so tests hand in a stand-in that changes the
functions in the emulator the way an apply would.

The working directory is `build/deploy/<stage>/`: the merged `chalice.tf.json`, its
`deployment.zip`, the images function's layer and a copy of `infra/terraform/*.tf`, applied as one
root module.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.deploy.package import LAYER_ZIP, PackageError, package
from infra.deploy.release import LIVE
from infra.local.environment import ROOT, stage_environment

MODULE_DIR = ROOT / "infra" / "terraform"
# Lambda's own default for asynchronous invocations, written out: two more tries, then the queue.
DEAD_LETTER_RETRIES = 2
WORK_ROOT = ROOT / "build" / "deploy"


class TerraformError(RuntimeError):
    pass


def _retarget(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_retarget(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _retarget(item, replacements) for key, item in value.items()}
    return value


def role_reference(function: str) -> str:
    return f"${{aws_iam_role.{function}.arn}}"


def merge(
    chalice: dict[str, Any], media_bucket: str, alias: str = LIVE, retries: int = DEAD_LETTER_RETRIES
) -> dict[str, Any]:
    """Chalice's Terraform, adjusted to live beside `infra/terraform` and to serve through `alias`.

    - its `terraform` block goes: it pins `aws < 5` and Terraform `< 1.4`, which contradicts
      `infra/terraform/main.tf`, and a module declares `required_providers` only once; so does its
      `null_data_source`, which nothing reads and which alone would need the null provider;
    - every function must run with its own role from `infra/terraform/iam.tf`
      (`${aws_iam_role.<function>.arn}`, named in `.chalice/config.json`); a package with any other
      role (chalice's generated one, say) is refused;
    - every function gets an alias (created at `$LATEST`; after that only `make deploy` moves it,
      hence `ignore_changes`), and API Gateway, the S3 notifications and their permissions invoke
      the alias instead of `$LATEST`, so an apply changes no traffic until the alias moves;
    - every function S3 invokes (asynchronously) sends an event that still fails after
      `retries` retries to the step failures queue (`aws_sqs_queue.step_failures`, queues.tf), which
      the failures function reads (its event source mapping waits for the queue to exist);
    - the notification names the media bucket through `aws_s3_bucket.media`, so Terraform creates
      the bucket before wiring it;
    - an output lists the function names, for the release step.
    """
    doc = copy.deepcopy(chalice)
    doc.pop("terraform", None)
    unused = doc.get("data", {}).pop("null_data_source", {})
    if any(f"data.null_data_source.{name}" in json.dumps(doc) for name in unused):
        raise TerraformError("chalice.tf.json reads its null_data_source now: keep the null provider")
    resources = doc["resource"]
    functions = sorted(resources["aws_lambda_function"])
    wrong_roles = [
        f"{name} runs as {body.get('role')!r}"
        for name, body in sorted(resources["aws_lambda_function"].items())
        if body.get("role") != role_reference(name)
    ]
    if wrong_roles or "aws_iam_role" in resources:
        raise TerraformError(
            "every function must run with its own role from infra/terraform/iam.tf "
            '(.chalice/config.json: "manage_iam_role": false and "iam_role_arn": '
            '"${aws_iam_role.<function>.arn}" per function); '
            + ("; ".join(wrong_roles) or f"chalice still creates {sorted(resources['aws_iam_role'])}")
        )
    for name in functions:
        # Never a function without its permissions (nor a dead-letter destination: Lambda checks
        # the role may send there when it is set), nor before its log group (logs.tf): Lambda
        # would make one itself on the first write, without retention or encryption.
        function = resources["aws_lambda_function"][name]
        function["depends_on"] = sorted(
            {
                *function.get("depends_on", []),
                f"aws_iam_role_policy_attachment.{name}",
                "aws_cloudwatch_log_group.functions",
            }
        )
    replacements = {}
    for name in functions:
        for attribute in ("invoke_arn", "arn"):
            replacements[f"${{aws_lambda_function.{name}.{attribute}}}"] = (
                f"${{aws_lambda_alias.{name}.{attribute}}}"
            )
    others = {kind: block for kind, block in resources.items() if kind != "aws_lambda_function"}
    resources.update(_retarget(others, replacements))
    doc["locals"] = _retarget(doc.get("locals", {}), replacements)

    for permission in resources.get("aws_lambda_permission", {}).values():
        for name in functions:
            if permission["function_name"] == f"${{aws_lambda_alias.{name}.arn}}":
                permission["function_name"] = f"${{aws_lambda_function.{name}.function_name}}"
                permission["qualifier"] = alias
    s3_invoked = sorted(
        name
        for name in functions
        for permission in resources.get("aws_lambda_permission", {}).values()
        if permission.get("principal") == "s3.amazonaws.com"
        and permission["function_name"] == f"${{aws_lambda_function.{name}.function_name}}"
    )
    s3_permissions = [
        f"aws_lambda_permission.{key}"
        for key, permission in sorted(resources.get("aws_lambda_permission", {}).items())
        if permission.get("principal") == "s3.amazonaws.com"
    ]
    for notification in resources.get("aws_s3_bucket_notification", {}).values():
        if notification.get("bucket") == media_bucket:
            notification["bucket"] = "${aws_s3_bucket.media.bucket}"
        # S3 checks it may invoke each destination when the notification is written.
        notification["depends_on"] = sorted({*notification.get("depends_on", []), *s3_permissions})

    resources["aws_lambda_alias"] = {
        name: {
            "name": alias,
            "description": "What the triggers invoke; `make deploy` moves it, and moves it back.",
            "function_name": f"${{aws_lambda_function.{name}.function_name}}",
            "function_version": "$LATEST",
            "lifecycle": {"ignore_changes": ["function_version"]},
        }
        for name in functions
    }
    if s3_invoked:
        resources["aws_lambda_function_event_invoke_config"] = {
            name: {
                "function_name": f"${{aws_lambda_function.{name}.function_name}}",
                "qualifier": f"${{aws_lambda_alias.{name}.name}}",
                "maximum_retry_attempts": retries,
                "destination_config": {"on_failure": {"destination": "${aws_sqs_queue.step_failures.arn}"}},
            }
            for name in s3_invoked
        }
    for mapping in resources.get("aws_lambda_event_source_mapping", {}).values():
        mapping["depends_on"] = sorted({*mapping.get("depends_on", []), "aws_sqs_queue.step_failures"})
    doc.setdefault("output", {})["function_names"] = {
        "description": "Lambda function names by Chalice name; make deploy releases each of them.",
        "value": {name: f"${{aws_lambda_function.{name}.function_name}}" for name in functions},
    }
    return doc


Run = Callable[..., subprocess.CompletedProcess[str]]


class Terraform:
    """`chalice package` + `terraform init/apply/output` in `build/deploy/<stage>/`.

    `backend_config`: a file of S3 backend settings (`bucket`, `key`, `region`, `use_lockfile`),
    passed as `terraform init -backend-config=...`. Without it the state stays in the working
    directory, which `make clean` deletes: fine for a first try of `dev`, refused for `prod`.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        executable: str = "terraform",
        backend_config: Path | None = None,
        run: Run = subprocess.run,
    ) -> None:
        self.workdir = workdir
        self.executable = executable
        self.backend_config = backend_config
        self.run = run

    def _call(self, args: list[str], cwd: Path, capture: bool = False) -> str:
        result = self.run(args, cwd=cwd, text=True, capture_output=capture, check=False)
        if result.returncode != 0:
            tail = (result.stderr or "").strip()[-2000:] if capture else "(its output is above)"
            command = f"{Path(args[0]).name} {args[1]}"
            raise TerraformError(f"`{command}` failed with exit code {result.returncode}: {tail}")
        return result.stdout or ""

    def prepare(self, stage: str, workdir: Path) -> None:
        """Package the app and lay out the one root module Terraform applies."""
        package_dir = workdir / "chalice-package"
        shutil.rmtree(package_dir, ignore_errors=True)
        for stale in [*workdir.glob("*.tf"), *workdir.glob("*.tf.json")]:
            stale.unlink()
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            for line in package(stage, package_dir, self.run):
                print(line)
        except PackageError as error:
            raise TerraformError(str(error)) from error
        generated = json.loads((package_dir / "chalice.tf.json").read_text())
        merged = merge(generated, stage_environment(stage)["MEDIA_BUCKET"])
        (workdir / "chalice.tf.json").write_text(json.dumps(merged, indent=2))
        for built in ("deployment.zip", LAYER_ZIP):
            shutil.copy2(package_dir / built, workdir / built)
        for module_file in sorted(MODULE_DIR.glob("*.tf")):
            shutil.copy2(module_file, workdir / module_file.name)
        if self.backend_config is not None:
            backend: dict[str, Any] = {"terraform": {"backend": {"s3": {}}}}
            (workdir / "backend.tf.json").write_text(json.dumps(backend, indent=2))

    def apply(self, stage: str) -> dict[str, Any]:
        """Returns Terraform's outputs by name (values only)."""
        workdir = self.workdir or WORK_ROOT / stage
        self.prepare(stage, workdir)
        init = [self.executable, "init", "-input=false"]
        if self.backend_config is not None:
            init.append(f"-backend-config={self.backend_config.resolve()}")
        self._call(init, workdir)
        variables = [f"-var=stage={stage}"]
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            variables.append(f"-var=region={region}")
        self._call([self.executable, "apply", "-input=false", "-auto-approve", *variables], workdir)
        outputs = json.loads(self._call([self.executable, "output", "-json"], workdir, capture=True))
        return {name: entry["value"] for name, entry in outputs.items()}
