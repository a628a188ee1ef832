"""The failures function and the watchdog: no product is left in a state it cannot leave.

`failures` reads the step functions' on-failure destination, one queue: Lambda sends a record of the
given-up S3 event there once its retries ran out (the local runtime hands the same record over when
it dead-letters one). `watchdog` runs every few minutes and fails the products that stopped moving.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib import failures as failing
from chalicelib.config import required

blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(queue=required("STEP_FAILURES_QUEUE"), batch_size=1, name="failures")
def failures(event: SQSEvent) -> None:
    # Each body is Lambda's destination record: {requestContext, requestPayload, responsePayload}.
    for record in event:
        given_up = json.loads(record.body)
        failing.step_gave_up(object_key(given_up), reason(given_up))


@blueprint.schedule(Rate(5, unit=Rate.MINUTES), name="watchdog")
def watchdog(event: CloudWatchEvent) -> None:
    failing.fail_stuck()


def object_key(given_up: dict[str, Any]) -> str:
    """The object whose S3 event was given up on (S3 event keys arrive URL-encoded)."""
    return unquote_plus(str(given_up["requestPayload"]["Records"][0]["s3"]["object"]["key"]))


def reason(given_up: dict[str, Any]) -> str:
    response = given_up.get("responsePayload") or {}
    return f"{response.get('errorType', 'Error')}: {response.get('errorMessage', 'unknown')}"
