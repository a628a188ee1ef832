"""`python -m infra.deploy --stage dev|prod` (`make deploy STAGE=...`): the steps, in order.

0. build the panel (`npm ci && npm run build` in web/; Node.js 20.19+), before anything changes;
1. back up every table of the stage (on-demand DynamoDB backups named after this deploy);
2. `chalice package` merged with `infra/terraform`, `terraform init` + `apply` (the functions'
   `$LATEST` changes; the triggers invoke `live`, so no traffic moves yet);
3. publish a version of every function and move its `live` alias to it;
4. upload web/build to the panel bucket (assets first, index.html last, stale files after) and
   invalidate `/index.html` and `/` in CloudFront;
5. smoke check `GET /api/v1/health/detailed` on the deployed API and `GET <panel_url>/`;
6. if step 4 or 5 fails, every alias goes back to the version it had, the panel's files go back to
   the versions they had, and the command exits 1 saying what failed. A failure before step 3
   moved no alias, so the stage still runs what it ran before.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from infra.deploy.backup import back_up_tables, stage_tables
from infra.deploy.panel import PanelError, PanelSite, PanelUpload, build_panel, node_problem
from infra.deploy.release import ReleaseError, release, roll_back
from infra.deploy.settings import missing_settings
from infra.deploy.smoke import SmokeResult, panel_check, smoke_check
from infra.deploy.terraform import Terraform, TerraformError

STAGES = ("dev", "prod")


class Infrastructure(Protocol):
    def apply(self, stage: str) -> dict[str, Any]: ...


class Panel(Protocol):
    def publish(self, bucket: str, distribution_id: str, reference: str) -> tuple[PanelUpload, str]: ...

    def restore(self, upload: PanelUpload, distribution_id: str, reference: str) -> list[str]: ...


def deploy(
    stage: str,
    infrastructure: Infrastructure,
    lambda_client: Any,
    dynamodb: Any,
    smoke: Callable[[str, str], SmokeResult] = smoke_check,
    say: Callable[[str], None] = print,
    label: str | None = None,
    panel: Panel | None = None,
    panel_smoke: Callable[[str], SmokeResult] = panel_check,
) -> int:
    """Steps 1-6 above; `panel` None deploys the API only (no panel build to upload)."""
    label = label or time.strftime("pre-deploy-%Y%m%dT%H%M%SZ", time.gmtime())

    tables = stage_tables(stage)
    say(f"[1/5] backing up {len(tables)} tables ({label})")
    for backup in back_up_tables(dynamodb, tables, label):
        say(f"      {backup.table}: {backup.backup_arn or 'does not exist yet, nothing to back up'}")

    say("[2/5] chalice package + terraform apply")
    try:
        outputs = infrastructure.apply(stage)
    except TerraformError as error:
        say(f"DEPLOY FAILED at terraform apply: {error}")
        say("No alias moved: the stage still serves the versions it served before.")
        return 1
    functions = sorted(outputs["function_names"].values())

    say(f"[3/5] publishing {len(functions)} functions and moving their live aliases")
    try:
        releases = release(lambda_client, functions)
    except ReleaseError as error:
        say(f"DEPLOY FAILED while releasing: {error}")
        return 1
    for item in releases:
        say(f"      {item.function}: live {item.previous or '(new)'} -> {item.current}")

    def fail(reason: str, upload: PanelUpload | None) -> int:
        say(f"DEPLOY FAILED: {reason}")
        say("Rolling back:")
        lines = roll_back(lambda_client, releases)
        if panel is not None and upload is not None:
            lines += panel.restore(upload, outputs["panel_distribution_id"], label)
        for line in lines:
            say(f"      {line}")
        return 1

    upload = None
    if panel is None:
        say("[4/5] panel: not uploaded (no panel build given)")
    else:
        say(f"[4/5] uploading the panel to {outputs['panel_bucket_name']}")
        try:
            upload, invalidation = panel.publish(
                outputs["panel_bucket_name"], outputs["panel_distribution_id"], label
            )
        except PanelError as error:
            return fail(f"panel upload: {error}", error.upload)
        say(
            f"      {len(upload.uploaded)} uploaded, {len(upload.kept)} unchanged, "
            f"{len(upload.deleted)} stale deleted; CloudFront invalidation {invalidation}"
        )

    say("[5/5] smoke check")
    result = smoke(outputs["EndpointURL"], stage)
    if not result.ok:
        return fail(f"smoke check failed: {result.detail}", upload)
    if panel is not None:
        seen = panel_smoke(outputs["panel_url"])
        if not seen.ok:
            return fail(f"panel check failed: {seen.detail}", upload)
    say(f"Deployed {stage}: {result.url} is healthy (attempt {result.attempts}).")
    if "panel_url" in outputs:
        say(f"panel_url: {outputs['panel_url']}")
    return 0


def missing_prerequisites(stage: str, terraform: str, backend_config: Path | None) -> list[str]:
    """Everything a real deploy needs that is not there, in words: tools, credentials, every setting
    of every function (infra/deploy/settings.py), the panel's domain, the state backend."""
    import boto3

    missing = []
    if shutil.which(terraform) is None:
        missing.append(f"Terraform: `{terraform}` is not on PATH (install Terraform >= 1.3)")
    credentials = boto3.Session().get_credentials() is not None
    if not credentials:
        missing.append(
            "AWS credentials: none found (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or SSO)"
        )
    # Every setting the stage's functions need (chalicelib.config.SETTINGS); SSM is only read.
    missing += missing_settings(stage, boto3.client("ssm") if credentials else None)
    # Optional: without it the panel is served at CloudFront's own domain (output panel_url).
    # Terraform matches TF_VAR_<name> case-sensitively; the variables are lower case.
    origin = os.environ.get("TF_VAR_panel_origin", "")  # noqa: SIM112
    if origin and not re.fullmatch(r"https://[^/]+", origin):
        missing.append(f"TF_VAR_panel_origin: {origin!r} must be https:// and a host only")
    if origin and not os.environ.get("TF_VAR_panel_certificate_arn"):  # noqa: SIM112
        missing.append(
            "TF_VAR_panel_certificate_arn: a custom panel origin needs its ACM certificate (us-east-1)"
        )
    problem = node_problem()
    if problem:
        missing.append(problem)
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

    print("Building the panel: npm ci && npm run build in web/")
    try:
        build = build_panel()
    except PanelError as error:
        print(f"DEPLOY FAILED before anything changed: {error}", file=sys.stderr)
        return 1

    import boto3

    return deploy(
        args.stage,
        Terraform(executable=args.terraform, backend_config=backend_config),
        boto3.client("lambda"),
        boto3.client("dynamodb"),
        panel=PanelSite(boto3.client("s3"), boto3.client("cloudfront"), build),
    )


if __name__ == "__main__":
    sys.exit(main())
