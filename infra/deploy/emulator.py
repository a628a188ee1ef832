"""The whole stack applied by Terraform to the local emulator, checked, then destroyed (`make test`).

The root module is built as `make deploy` builds it (infra/deploy/terraform.py: `chalice package`
merged with infra/terraform, the images function's layer beside it) and applied to a moto server,
with every provider endpoint pointed there. Terraform and the AWS provider come from this machine:
`terraform` on PATH (or TERRAFORM), the provider from a filesystem mirror (TF_PROVIDER_MIRROR, or
the folders in MIRROR_ROOTS), never from the network.

What moto cannot take, and what covers it instead, a plan of the real stack (`plan`):
- API Gateway: moto imports OpenAPI 3 only and chalice writes the REST API as Swagger 2.0, so the
  REST API, its deployment, its invoke permission and api.tf's throttling are planned, not applied;
- CloudFront: moto has no cache, origin request or response headers policies and no PublishFunction,
  so cdn.tf (the panel's distribution, its headers policy and routing function) is planned too.
The applied root reads the edge through two locals, which a stand-in gives fixed values
(`EDGE_STAND_IN`): the distribution's domain and ARN (AWS's documentation example) and the API's
name and stage as chalice names them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.deploy.terraform import Terraform
from infra.local.environment import CHALICE_CONFIG, EMULATOR_CREDENTIALS

PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
MIRROR_ROOTS = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)
# Every service the stack uses; the provider must never reach AWS from here.
SERVICES = (
    "apigateway", "cloudfront", "cloudwatch", "dynamodb", "iam", "kms", "lambda", "logs", "s3", "sns",
    "sqs", "ssm", "sts", "events",
)  # fmt: skip
EDGE_FILES = ("api.tf", "cdn.tf")
EDGE_TYPES = ("aws_api_gateway_rest_api", "aws_api_gateway_deployment")
ACCOUNT = "123456789012"  # moto's
EDGE_STAND_IN_DISTRIBUTION = "EDFDVBD6EXAMPLE"


class EmulatorStackError(RuntimeError):
    pass


def find_terraform() -> str | None:
    return shutil.which(os.environ.get("TERRAFORM", "terraform"))


def find_provider_mirror() -> Path | None:
    """The folder holding registry.terraform.io/hashicorp/aws/<version>/linux_amd64/..."""
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    for root in [Path(configured)] if configured else MIRROR_ROOTS:
        if any((root / PROVIDER).glob("5.*/linux_amd64/terraform-provider-aws*")):
            return root
    return None


def requirements_problem() -> str | None:
    """What this machine lacks to apply the stack, in words; None when nothing."""
    problems = []
    if find_terraform() is None:
        problems.append(
            f"Terraform is not on PATH (looked for `{os.environ.get('TERRAFORM', 'terraform')}`): install "
            "Terraform 1.3 or newer, or set TERRAFORM=/path/to/terraform"
        )
    if find_provider_mirror() is None:
        where = os.environ.get("TF_PROVIDER_MIRROR") or ", ".join(str(root) for root in MIRROR_ROOTS)
        problems.append(
            f"the AWS provider 5.x is in no filesystem mirror (looked in {where}): set TF_PROVIDER_MIRROR "
            f"to the folder that holds {PROVIDER}/5.x/linux_amd64/terraform-provider-aws_*"
        )
    return "; ".join(problems) or None


def without_edge(merged: dict[str, Any]) -> dict[str, Any]:
    """chalice.tf.json as the deploy merges it, less the REST API moto cannot import."""
    doc = copy.deepcopy(merged)
    resources = doc["resource"]
    for type_name in EDGE_TYPES:
        resources.pop(type_name, None)
    permissions = resources.get("aws_lambda_permission", {})
    for name in [n for n, body in permissions.items() if body.get("principal") == "apigateway.amazonaws.com"]:
        del permissions[name]
    for name in ("EndpointURL", "RestAPIId"):
        doc.get("output", {}).pop(name, None)
    doc.get("locals", {}).pop("chalice_api_swagger", None)
    if "aws_api_gateway" in json.dumps(doc):
        raise EmulatorStackError("chalice.tf.json refers to API Gateway in a way this split does not know")
    return doc


def edge_stand_in(stage: str) -> dict[str, Any]:
    config = json.loads(CHALICE_CONFIG.read_text())
    return {
        "locals": {
            "panel_cdn": {
                "domain_name": "d111111abcdef8.cloudfront.net",
                "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{EDGE_STAND_IN_DISTRIBUTION}",
                "id": EDGE_STAND_IN_DISTRIBUTION,
            },
            "api_dimensions": {
                "ApiName": config["app_name"],
                "Stage": config["stages"][stage]["api_gateway_stage"],
            },
        }
    }


def provider_override(endpoint: str) -> dict[str, Any]:
    """Merged into main.tf's provider block (an `_override` file): the emulator, throwaway keys."""
    return {
        "provider": {
            "aws": {
                "access_key": EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "secret_key": EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": True,
                "skip_region_validation": True,
                "s3_use_path_style": True,
                "endpoints": [{service: endpoint for service in SERVICES}],
            }
        }
    }


def cli_config(mirror: Path) -> str:
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/*"]
  }}
}}
"""


APPLY_ATTEMPTS = 3  # an apply, and two more after adopting what a lost answer left behind


@dataclass
class EmulatorStack:
    """Two roots in `folder`: `full/` exactly as `make deploy` lays it out (planned), `applied/` the
    same less the edge (applied and destroyed); both talk to `endpoint` only."""

    folder: Path
    endpoint: str
    stage: str = "dev"
    variables: dict[str, str] | None = None

    @property
    def full(self) -> Path:
        return self.folder / "full"

    @property
    def applied(self) -> Path:
        return self.folder / "applied"

    def environment(self) -> dict[str, str]:
        mirror = find_provider_mirror()
        if mirror is None or find_terraform() is None:
            raise EmulatorStackError(str(requirements_problem()))
        config = self.folder / "terraformrc"
        config.write_text(cli_config(mirror))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        return {
            **env,
            **EMULATOR_CREDENTIALS,
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",  # no version check with HashiCorp
        }

    def prepare(self) -> None:
        """Package and merge as the deploy does, then derive the applied root from it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        Terraform(workdir=self.full).prepare(self.stage, self.full)
        shutil.rmtree(self.applied, ignore_errors=True)
        self.applied.mkdir()
        for path in self.full.iterdir():
            if path.is_file() and path.name not in EDGE_FILES and path.name != "chalice.tf.json":
                shutil.copy2(path, self.applied / path.name)
        merged = json.loads((self.full / "chalice.tf.json").read_text())
        (self.applied / "chalice.tf.json").write_text(json.dumps(without_edge(merged), indent=2))
        (self.applied / "edge_stand_in.tf.json").write_text(json.dumps(edge_stand_in(self.stage), indent=2))
        for root in (self.full, self.applied):
            (root / "emulator_override.tf.json").write_text(json.dumps(provider_override(self.endpoint)))

    def run(self, root: Path, *args: str, capture: bool = False) -> str:
        command = [str(find_terraform()), *args]
        result = subprocess.run(
            command, cwd=root, env=self.environment(), text=True, capture_output=True, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip()[-3000:]
            raise EmulatorStackError(f"`terraform {args[0]}` in {root.name}/ failed: {tail}")
        return result.stdout if capture else ""

    def _vars(self) -> list[str]:
        values = {
            "stage": self.stage,
            "region": EMULATOR_CREDENTIALS["AWS_DEFAULT_REGION"],
            **(self.variables or {}),
        }
        return [f"-var={name}={value}" for name, value in values.items()]

    def init(self) -> None:
        for root in (self.full, self.applied):
            self.run(root, "init", "-no-color")

    def plan(self) -> dict[str, Any]:
        """`terraform plan` of the full stack, as `terraform show -json` prints it."""
        self.run(self.full, "plan", "-no-color", "-refresh=false", "-out=stack.plan", *self._vars())
        planned: dict[str, Any] = json.loads(self.run(self.full, "show", "-json", "stack.plan", capture=True))
        return planned

    def apply(self) -> dict[str, Any]:
        for attempt in range(APPLY_ATTEMPTS):
            try:
                self.run(self.applied, "apply", "-no-color", "-auto-approve", *self._vars())
                break
            except EmulatorStackError as error:
                made = lost_creations(str(error))
                if not made or attempt == APPLY_ATTEMPTS - 1:
                    raise
                # It exists and only this apply could have made it: a create whose answer was lost
                # and sent again (a table, a function's alias: seen in fresh-clone runs on a busy
                # machine). Take it into the state and go on.
                for address, import_id in made:
                    self.run(self.applied, "import", "-no-color", *self._vars(), address, import_id)
        outputs = json.loads(self.run(self.applied, "output", "-json", capture=True))
        return {name: entry["value"] for name, entry in outputs.items()}

    def state(self) -> list[str]:
        return self.run(self.applied, "state", "list", capture=True).split()

    def s3(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=EMULATOR_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def lift_tls_only_policies(self, buckets: list[str]) -> None:
        """moto evaluates a bucket policy's conditions without the request's context: the TLS-only
        Deny (aws:SecureTransport false) refuses every object request, over HTTPS too. AWS evaluates
        it per request; here the policy goes, after the checks have seen it applied."""
        for bucket in buckets:
            self.s3().delete_bucket_policy(Bucket=bucket)

    def empty(self, buckets: list[str]) -> None:
        """What an operator does before destroying a stage, since S3 refuses to delete a bucket that
        holds objects (the stack sets no force_destroy): stop access logging (moto writes the logs
        too), then delete every version and delete marker."""
        s3 = self.s3()
        self.lift_tls_only_policies(buckets)
        for bucket in buckets:
            s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        for bucket in buckets:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                doomed = [
                    {"Key": item["Key"], "VersionId": item["VersionId"]}
                    for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                if doomed:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})

    def destroy(self) -> None:
        self.run(self.applied, "destroy", "-no-color", "-auto-approve", *self._vars())


# Terraform's words when something it is creating is there already (a create whose answer was lost
# and that the SDK sent again), the resource it was creating, and the id `terraform import` takes.
_ALREADY_THERE = (
    re.compile(
        r"ResourceInUseException: Table already exists: (?P<id>[\w.-]+)"
        r".*?with (?P<address>aws_dynamodb_table\.[\w-]+),",
        re.DOTALL,
    ),
    # CreateAlias: "Alias already exists: arn:aws:lambda:<region>:<account>:function:<function>:<alias>";
    # the alias is imported as "<function>/<alias>".
    re.compile(
        r"ConflictException: Alias already exists: arn:aws:lambda:[^:]*:[^:]*:function:"
        r"(?P<function>[\w-]+):(?P<alias>[\w-]+)"
        r".*?with (?P<address>aws_lambda_alias\.[\w-]+),",
        re.DOTALL,
    ),
)


def lost_creations(output: str) -> list[tuple[str, str]]:
    """(resource address, import id) of everything an apply failed to create because it exists."""
    found = []
    for pattern in _ALREADY_THERE:
        for m in pattern.finditer(output):
            groups = m.groupdict()
            made = groups.get("id") or f"{groups['function']}/{groups['alias']}"
            found.append((m["address"], made))
    return found


def planned_resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource the plan creates, with its planned values (`values`) and address."""

    def walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    yield from walk(plan["planned_values"]["root_module"])
