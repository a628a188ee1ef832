"""Every setting the code reads from its environment, declared once, and the only place that reads them.

Names of buckets and tables are stage-level environment variables in `.chalice/config.json`; the
AWS endpoint comes from `AWS_ENDPOINT_URL` (boto3 and PynamoDB honour it), never from code. A
secret is either the value itself (`NAME`, locally) or the name of an encrypted SSM parameter
(`NAME_PARAMETER`, in AWS). Which adapter each port uses (PhotoRoom or the local remover, Gemini or
the local writer) follows from which keys are configured: `providers()`, nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class MissingSetting(RuntimeError):
    pass


@dataclass(frozen=True)
class Setting:
    name: str
    about: str
    default: str | None = None


# Optional settings with their defaults. Stage names (tables, bucket) are `required`; secrets `secret`.
SETTINGS = {
    s.name: s
    for s in (
        Setting("PANEL_URL", "where the MercadoLibre callback sends the browser back (the panel)"),
        Setting("GEMINI_MODEL", "the Gemini model id", "gemini-2.5-flash"),
        Setting("GEMINI_BASE_URL", "Gemini's endpoint (tests point it at a local server)"),
        # google-genai 3.x defaults the Gemini Developer API to `v1`; `v1beta` is where structured
        # output, system instructions and the model aliases have always been served.
        Setting("GEMINI_API_VERSION", "Gemini's API version", "v1beta"),
        Setting("GEMINI_TIMEOUT_MS", "one Gemini call's timeout, in milliseconds", "60000"),
        # Including the first; the SDK retries timeouts too, so keep attempts x timeout in mind.
        Setting("GEMINI_RETRY_ATTEMPTS", "Gemini calls per request, the first included", "3"),
        Setting("GEMINI_RETRY_INITIAL_DELAY", "seconds before Gemini's first retry", "1.0"),
        Setting("GEMINI_RETRY_MAX_DELAY", "the longest wait between Gemini retries, seconds", "8.0"),
        Setting("GEMINI_PRICE_INPUT_PER_MTOK", "USD per million input tokens, over the price table"),
        Setting("GEMINI_PRICE_OUTPUT_PER_MTOK", "USD per million output tokens, over the price table"),
        Setting("PHOTOROOM_BASE_URL", "PhotoRoom's endpoint", "https://sdk.photoroom.com"),
        # One v1 segment call; failed calls are not billed. For AiCostUsd.
        Setting("PHOTOROOM_PRICE_USD", "USD per PhotoRoom call", "0.02"),
        Setting("U2NETP_MODEL_PATH", "the local remover's model file (default: .cache/models)"),
        Setting("MERCADOLIBRE_API_URL", "MercadoLibre's API", "https://api.mercadolibre.com"),
        Setting("MERCADOLIBRE_AUTH_URL", "where sellers sign in (default: their site's auth host)"),
        Setting("TOKENS_KMS_KEY_ID", "the KMS key that wraps sealed tokens (AWS)"),
    )
}


def value(name: str) -> str | None:
    """An optional setting: its value, else its declared default."""
    return os.environ.get(name) or SETTINGS[name].default


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise MissingSetting(
            f"environment variable {name} is not set; it comes from the stage in .chalice/config.json"
        )
    return value


def configured(name: str) -> bool:
    """Whether a secret is set, as its value or as the name of its SSM parameter (never read here)."""
    return bool(os.environ.get(name) or os.environ.get(f"{name}_PARAMETER"))


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


def providers() -> dict[str, str]:
    """Which adapter each port uses: names only, never keys. Read at each call, so a key set later
    (a test, a rotated stage) takes effect."""
    return {
        "background_remover": "photoroom" if configured("PHOTOROOM_API_KEY") else "local",
        "listing_generator": "gemini" if configured("GEMINI_API_KEY") else "local",
    }


def panel_url() -> str:
    return (value("PANEL_URL") or "").rstrip("/")


def model_path(name: str, fallback: Path) -> Path:
    configured_path = value(name)
    return Path(configured_path) if configured_path else fallback


@dataclass(frozen=True)
class Settings:
    stage: str
    media_bucket: str


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(stage=required("STAGE"), media_bucket=required("MEDIA_BUCKET"))
