"""`python -m infra.deploy --stage dev|prod` (`make deploy STAGE=...`): the steps, in order.

1. back up every table of the stage (on-demand DynamoDB backups named after this deploy);
2. `chalice package` merged with `infra/terraform`, `terraform init` + `apply` (the functions'
   `$LATEST` changes; the triggers invoke `live`, so no traffic moves yet);
3. publish a version of every function and move its `live` alias to it;
4. smoke check `GET /api/v1/health/detailed` on the deployed API;
5. if it fails, every alias goes back to the version it had and the command exits 1 saying what
   failed. A failure before step 3 moved no alias, so the stage still runs what it ran before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from infra.deploy.backup import back_up_tables, stage_tables
from infra.deploy.release import ReleaseError, release, roll_back
from infra.deploy.smoke import SmokeResult, smoke_check
from infra.deploy.terraform import Terraform, TerraformError

STAGES = ("dev", "prod")


class Infrastructure(Protocol):
    def apply(self, stage: str) -> dict[str, Any]: ...


def deploy(
    stage: str,
    infrastructure: Infrastructure,
    lambda_client: Any,
    dynamodb: Any,
    smoke: Callable[[str, str], SmokeResult] = smoke_check,
    say: Callable[[str], None] = print,
    label: str | None = None,
) -> int:
    label = label or time.strftime("pre-deploy-%Y%m%dT%H%M%SZ", time.gmtime())

    tables = stage_tables(stage)
    say(f"[1/4] backing up {len(tables)} tables ({label})")
    for backup in back_up_tables(dynamodb, tables, label):
        say(f"      {backup.table}: {backup.backup_arn or 'does not exist yet, nothing to back up'}")

    say("[2/4] chalice package + terraform apply")
    try:
        outputs = infrastructure.apply(stage)
    except TerraformError as error:
        say(f"DEPLOY FAILED at terraform apply: {error}")
        say("No alias moved: the stage still serves the versions it served before.")
        return 1
    functions = sorted(outputs["function_names"].values())

    say(f"[3/4] publishing {len(functions)} functions and moving their live aliases")
    try:
        releases = release(lambda_client, functions)
    except ReleaseError as error:
        say(f"DEPLOY FAILED while releasing: {error}")
        return 1
    for item in releases:
        say(f"      {item.function}: live {item.previous or '(new)'} -> {item.current}")

    say("[4/4] smoke check")
    result = smoke(outputs["EndpointURL"], stage)
    if result.ok:
        say(f"Deployed {stage}: {result.url} is healthy (attempt {result.attempts}).")
        return 0
    say(f"DEPLOY FAILED: smoke check failed: {result.detail}")
    say("Rolling back:")
    for line in roll_back(lambda_client, releases):
        say(f"      {line}")
    return 1


def missing_prerequisites(stage: str, terraform: str, backend_config: Path | None) -> list[str]:
    """Everything a real deploy needs that is not there, in words."""
    import boto3

    missing = []
    if shutil.which(terraform) is None:
        missing.append(f"Terraform: `{terraform}` is not on PATH (install Terraform >= 1.5)")
    if boto3.Session().get_credentials() is None:
        missing.append(
            "AWS credentials: none found (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or SSO)"
        )
    # Terraform matches TF_VAR_<name> case-sensitively, and the variable is `panel_origin`.
    if not os.environ.get("TF_VAR_panel_origin"):  # noqa: SIM112
        missing.append("TF_VAR_panel_origin: the panel's origin, e.g. https://panel.example.com")
    if backend_config is None and stage == "prod":
        missing.append(
            "TF_BACKEND_CONFIG: prod keeps its Terraform state in S3; name a file with the backend's "
            "bucket, key and region"
        )
    elif backend_config is not None and not backend_config.is_file():
        missing.append(f"TF_BACKEND_CONFIG: {backend_config} does not exist")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--terraform", default=os.environ.get("TERRAFORM", "terraform"))
    args = parser.parse_args(argv)

    backend = os.environ.get("TF_BACKEND_CONFIG")
    backend_config = Path(backend) if backend else None
    missing = missing_prerequisites(args.stage, args.terraform, backend_config)
    if missing:
        print(f"make deploy STAGE={args.stage} cannot start; missing:", file=sys.stderr)
        for line in missing:
            print(f"  - {line}", file=sys.stderr)
        return 2
    if backend_config is None:
        print(
            f"Note: no TF_BACKEND_CONFIG: the state stays in build/deploy/{args.stage}/, "
            "which make clean deletes."
        )
    if os.environ.get("AWS_ENDPOINT_URL"):
        print(f"Note: AWS_ENDPOINT_URL={os.environ['AWS_ENDPOINT_URL']} sends every AWS call there.")

    import boto3

    return deploy(
        args.stage,
        Terraform(executable=args.terraform, backend_config=backend_config),
        boto3.client("lambda"),
        boto3.client("dynamodb"),
    )


if __name__ == "__main__":
    sys.exit(main())
