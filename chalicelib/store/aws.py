"""boto3 clients, built lazily once per process so tests can swap them (`get_x.cache_clear()`).

The endpoint is never set here: boto3 reads AWS_ENDPOINT_URL, so the same code talks to the
emulator locally and to AWS when deployed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Fail fast: a Lambda waiting 60 s on a connect is worse than a clear error and a retry.
_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})
# Health checks must answer quickly even when a dependency is down.
PROBE_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})


@cache
def get_s3() -> Any:
    return boto3.client("s3", config=_CLIENT_CONFIG)


@cache
def get_probe_client(service: str) -> Any:
    return boto3.client(service, config=PROBE_CONFIG)
