"""boto3 clients, built lazily once per process so tests can swap them (`get_x.cache_clear()`).

The endpoint is never set here: boto3 reads AWS_ENDPOINT_URL, so the same code talks to the
emulator locally and to AWS when deployed. Every client comes from one session: botocore parses a
service's model (hundreds of kB of JSON) once per session, so a session per client or per table
costs tens of milliseconds each time a function starts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.connection import Connection

# Fail fast: a Lambda waiting 60 s on a connect is worse than a clear error and a retry.
_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})
# Health checks must answer quickly even when a dependency is down.
PROBE_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def get_s3() -> Any:
    return session().client("s3", config=_CLIENT_CONFIG)


@cache
def get_probe_client(service: str) -> Any:
    return session().client(service, config=PROBE_CONFIG)


@cache
def get_dynamodb() -> Connection:
    """The PynamoDB connection whose DynamoDB client every table and transaction shares."""
    connection = Connection()
    connection._local.session = session()._session  # the one botocore session, not one per table
    connection.client  # built now, in this thread, from that session  # noqa: B018
    return connection
