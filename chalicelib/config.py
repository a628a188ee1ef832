"""Settings read once from the environment.

Names of buckets and tables are stage-level environment variables in `.chalice/config.json`;
the AWS endpoint comes from `AWS_ENDPOINT_URL` (boto3 and PynamoDB honour it), never from code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


class MissingSetting(RuntimeError):
    pass


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise MissingSetting(
            f"environment variable {name} is not set; it comes from the stage in .chalice/config.json"
        )
    return value


def secret(name: str) -> str:
    """A secret from the environment (local) or from SSM Parameter Store (AWS), never logged.

    `NAME` holds the value itself; `NAME_PARAMETER` names an encrypted SSM parameter, read through
    Powertools and cached for five minutes so a rotated secret reaches warm functions.
    """
    value = os.environ.get(name)
    if value:
        return value
    parameter = os.environ.get(f"{name}_PARAMETER")
    if parameter:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(parameter, decrypt=True, max_age=300))
    raise MissingSetting(f"secret {name} is not configured: set {name} or {name}_PARAMETER")


@dataclass(frozen=True)
class Settings:
    stage: str
    media_bucket: str
    region: str
    endpoint_url: str | None
    photoroom_configured: bool
    gemini_configured: bool

    @property
    def providers(self) -> dict[str, str]:
        """Which adapter each port uses: names only, never keys."""
        return {
            "background_remover": "photoroom" if self.photoroom_configured else "local",
            "listing_generator": "gemini" if self.gemini_configured else "local",
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        stage=required("STAGE"),
        media_bucket=required("MEDIA_BUCKET"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        photoroom_configured=bool(
            os.environ.get("PHOTOROOM_API_KEY") or os.environ.get("PHOTOROOM_API_KEY_PARAMETER")
        ),
        gemini_configured=bool(
            os.environ.get("GEMINI_API_KEY") or os.environ.get("GEMINI_API_KEY_PARAMETER")
        ),
    )
