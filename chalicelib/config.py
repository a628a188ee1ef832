"""Every setting the code reads, declared once in `SETTINGS`, and the only place that reads them.

Each setting says where a deployed stage (dev, prod) gets it and which functions cannot work without
it there. `make deploy` checks the list before it touches anything (infra/deploy/settings.py), and
each event function checks its own before a job does any paid work (`missing_for`), so a missing
setting fails a product with SETTING_MISSING naming it, instead of a crash half-way.

Where values come from:
- the stage's environment in `.chalice/config.json` (bucket and table names, the KMS key alias...);
- SSM parameters: `NAME_PARAMETER` in the stage names one, and the value is read from SSM (cached
  five minutes, so a rotated value reaches warm functions). Terraform creates the ones it knows
  (infra/terraform/settings.tf: the MercadoLibre app id, the redirect URI, the panel's URL); the
  operator puts the secrets (SecureString) before the first deploy;
- a default in code, which a stage may override.
Locally `make run` sets plain values (`NAME`) for everything it needs; a plain value always wins.
The AWS endpoint comes from `AWS_ENDPOINT_URL` (boto3 and PynamoDB honour it), never from here.
Which adapter each port uses (PhotoRoom or the local remover, Gemini or the local writer) follows
from which keys are configured: `providers()`, nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from chalicelib.domain.errors import Busy


class Source(Enum):
    STAGE = "the stage's environment in .chalice/config.json"
    TERRAFORM = "an SSM parameter Terraform creates (infra/terraform/settings.tf), named by NAME_PARAMETER"
    SECRET = "an SSM SecureString the operator puts before deploying, named by NAME_PARAMETER"  # noqa: S105
    DEFAULT = "a default in code; the stage may set another"
    LOCAL = "the local stack only (make run writes it into .local/secrets)"

    @property
    def in_ssm(self) -> bool:
        return self in (Source.TERRAFORM, Source.SECRET)


FUNCTIONS = ("api_handler", "ingest", "images", "content", "publish", "failures", "watchdog")
EVERY = frozenset(FUNCTIONS)
MERCADOLIBRE_CLIENT = frozenset({"api_handler", "content", "publish"})  # get_mercadolibre() needs all three


@dataclass(frozen=True)
class Setting:
    name: str
    about: str
    source: Source = Source.DEFAULT
    default: str | None = None
    # The functions that cannot work without it in a deployed stage (every function imports the whole
    # app, so every one needs every table name).
    needed_by: frozenset[str] = frozenset()
    # A value a deployed stage must not run with: the problem in words, or None.
    check: Callable[[str], str | None] | None = None

    def parameter(self) -> str | None:
        """The SSM parameter the environment names for it, if any."""
        return os.environ.get(f"{self.name}_PARAMETER") if self.source.in_ssm else None


class MissingSetting(Busy):
    """A setting the code needs is not there (503 at the API; SETTING_MISSING on a product).

    Its message, which the API answers with, names the setting only; `str()` adds where it should
    come from (parameter names, for the logs and the operator), which the public never sees."""

    def __init__(self, name: str, problem: str, code: str = "SETTING_MISSING") -> None:
        what = "is missing" if code == "SETTING_MISSING" else "has an invalid value for"
        super().__init__(code, f"the service {what} a setting ({name})", {"setting": name})
        self.setting = name
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}"


def _known_gemini_model(model: str) -> str | None:
    from chalicelib.providers.gemini import model_problem

    return model_problem(model)


def _table(name: str, what: str) -> Setting:
    return Setting(name, f"the {what} table's name", Source.STAGE, needed_by=EVERY)


SETTINGS = {
    s.name: s
    for s in (
        Setting("STAGE", "local, dev or prod", Source.STAGE, needed_by=EVERY),
        Setting("MEDIA_BUCKET", "the bucket of photos, pictures and jobs", Source.STAGE, needed_by=EVERY),
        Setting(
            "STEP_FAILURES_QUEUE",
            "the queue of the steps' given-up events, which the failures function reads",
            Source.STAGE,
            needed_by=frozenset({"failures"}),
        ),
        _table("PRODUCTS_TABLE", "products"),
        _table("IMAGES_TABLE", "photos"),
        _table("PRODUCT_EVENTS_TABLE", "timeline"),
        _table("LISTING_VERSIONS_TABLE", "listing versions"),
        _table("USERS_TABLE", "sellers"),
        _table("USER_EMAILS_TABLE", "sellers' emails"),
        _table("SESSIONS_TABLE", "sessions"),
        _table("RATE_LIMITS_TABLE", "login rate limits"),
        _table("MARKETPLACE_ACCOUNTS_TABLE", "MercadoLibre accounts"),
        _table("PENDING_CONNECTIONS_TABLE", "MercadoLibre connections in progress"),
        _table("MARKETPLACE_CACHE_TABLE", "MercadoLibre categories cache"),
        Setting(
            "TOKENS_KMS_KEY_ID",
            "the KMS key that wraps sealed MercadoLibre tokens",
            Source.STAGE,
            needed_by=frozenset({"api_handler", "publish"}),
        ),
        Setting(
            "JWT_SECRET",
            "signs access tokens and connect links",
            Source.SECRET,
            needed_by=frozenset({"api_handler"}),
        ),
        Setting(
            "MERCADOLIBRE_CLIENT_ID",
            "the MercadoLibre app's id (Terraform: -var mercadolibre_client_id)",
            Source.TERRAFORM,
            needed_by=MERCADOLIBRE_CLIENT,
        ),
        Setting(
            "MERCADOLIBRE_REDIRECT_URI",
            "where MercadoLibre sends sellers back (the panel's origin + /api/v1/ml/callback)",
            Source.TERRAFORM,
            needed_by=MERCADOLIBRE_CLIENT,
        ),
        Setting(
            "MERCADOLIBRE_CLIENT_SECRET",
            "the MercadoLibre app's secret",
            Source.SECRET,
            needed_by=MERCADOLIBRE_CLIENT,
        ),
        Setting(
            "PANEL_URL",
            "where the MercadoLibre callback sends the browser back (the panel)",
            Source.TERRAFORM,
            needed_by=frozenset({"api_handler"}),
        ),
        Setting("GEMINI_API_KEY", "the Gemini API key", Source.SECRET, needed_by=frozenset({"content"})),
        Setting("PHOTOROOM_API_KEY", "the PhotoRoom API key", Source.SECRET, needed_by=frozenset({"images"})),
        Setting(
            "U2NETP_MODEL_PATH",
            "the local remover's model file (in AWS the images function's layer: /opt/models/u2netp.onnx)",
            Source.STAGE,
            needed_by=frozenset({"images"}),
        ),
        # Two suit one process with the cores to itself; the local event runtime gives each of its
        # worker processes its share instead (spinning threads on a busy core only burn it).
        Setting(
            "INFERENCE_THREADS",
            "threads per onnxruntime inference (the local remover, the local writer's OCR)",
            default="2",
        ),
        Setting("TOKENS_LOCAL_KEY", "seals MercadoLibre tokens where there is no KMS key", Source.LOCAL),
        # A current model from Google's models and deprecations pages (README: Gemini), one the price
        # table in chalicelib/providers/gemini.py prices.
        Setting(
            "GEMINI_MODEL",
            "the Gemini model id",
            default="gemini-3.5-flash-lite",
            needed_by=frozenset({"content"}),
            check=_known_gemini_model,
        ),
        Setting("GEMINI_BASE_URL", "Gemini's endpoint (tests point it at a local server)"),
        # google-genai 3.x defaults the Gemini Developer API to `v1`; `v1beta` is where structured
        # output, system instructions and thinking levels are served.
        Setting("GEMINI_API_VERSION", "Gemini's API version", default="v1beta"),
        Setting("GEMINI_TIMEOUT_MS", "one Gemini call's timeout, in milliseconds", default="60000"),
        # Including the first; the SDK retries timeouts too, so keep attempts x timeout in mind.
        Setting("GEMINI_RETRY_ATTEMPTS", "Gemini calls per request, the first included", default="3"),
        Setting("GEMINI_RETRY_INITIAL_DELAY", "seconds before Gemini's first retry", default="1.0"),
        Setting("GEMINI_RETRY_MAX_DELAY", "the longest wait between Gemini retries, seconds", default="8.0"),
        Setting("PHOTOROOM_BASE_URL", "PhotoRoom's endpoint", default="https://sdk.photoroom.com"),
        # One v1 segment call; failed calls are not billed. For AiCostUsd.
        Setting("PHOTOROOM_PRICE_USD", "USD per PhotoRoom call", default="0.02"),
        Setting("MERCADOLIBRE_API_URL", "MercadoLibre's API", default="https://api.mercadolibre.com"),
        Setting("MERCADOLIBRE_AUTH_URL", "where sellers sign in (default: their site's auth host)"),
    )
}


def _read(name: str) -> str | None:
    """A setting's value: the environment's, else its SSM parameter's (read through Powertools:
    decrypted, cached five minutes), else None. Never logged."""
    plain = os.environ.get(name)
    if plain:
        return plain
    declared = SETTINGS.get(name)
    parameter = declared.parameter() if declared is not None else os.environ.get(f"{name}_PARAMETER")
    if not parameter:
        return None
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return str(parameters.get_parameter(parameter, decrypt=True, max_age=300))
    except GetParameterError as error:
        raise MissingSetting(name, _unreadable(name, parameter, error)) from error


def _unreadable(name: str, parameter: str, error: Exception) -> str:
    what = "does not exist" if "ParameterNotFound" in str(error) else f"cannot be read ({str(error)[:120]})"
    origin = SETTINGS[name].source.value if name in SETTINGS else "SSM"
    return f"{name}_PARAMETER names {parameter}, which {what} ({origin})"


def _absent(name: str) -> MissingSetting:
    declared = SETTINGS.get(name)
    if declared is not None and declared.source.in_ssm:
        return MissingSetting(name, f"not set: set {name} or {name}_PARAMETER ({declared.source.value})")
    where = declared.source.value if declared is not None else "the environment"
    return MissingSetting(name, f"environment variable {name} is not set; it comes from {where}")


def value(name: str) -> str | None:
    """An optional setting: its value, else its declared default."""
    return _read(name) or SETTINGS[name].default


def required(name: str) -> str:
    found = _read(name)
    if not found:
        raise _absent(name)
    return found


def secret(name: str) -> str:
    """A secret, from the environment (local) or its SSM SecureString (AWS); never logged."""
    return required(name)


def configured(name: str) -> bool:
    """Whether a secret is set, as its value or as the name of its SSM parameter (never read here)."""
    return bool(os.environ.get(name) or os.environ.get(f"{name}_PARAMETER"))


def deployed() -> bool:
    """A stage in AWS (dev, prod): no embedded providers, every declared need must be met."""
    return os.environ.get("STAGE", "local") != "local"


def missing_for(function: str) -> list[MissingSetting]:
    """What `function` needs in a deployed stage and does not have (SSM parameters are read, so a
    parameter that does not exist counts), or holds with a value it must not run with. Empty locally:
    `make run` sets what the embedded providers need, and they need no keys."""
    if not deployed():
        return []
    problems: list[MissingSetting] = []
    for setting in SETTINGS.values():
        if function not in setting.needed_by:
            continue
        try:
            found = _read(setting.name) or setting.default
        except MissingSetting as missing:
            problems.append(missing)
            continue
        if not found:
            problems.append(_absent(setting.name))
        elif setting.check is not None and (problem := setting.check(found)):
            problems.append(MissingSetting(setting.name, problem, code="SETTING_INVALID"))
    return problems


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
