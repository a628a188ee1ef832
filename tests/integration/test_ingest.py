"""The ingest function as Lambda would call it, with a real S3 event from the emulator."""

from __future__ import annotations

import io
import json

import boto3
import pytest

from app import app
from chalicelib.observability import logger
from infra.local.runtime import LocalLambdaContext


def s3_event(bucket: str, key: str) -> dict:  # type: ignore[type-arg]
    return {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
        ]
    }


def _invoke_ingest(key: str) -> list[dict]:  # type: ignore[type-arg]
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        app.handler_map["ingest"](s3_event("intellipost-local-media", key), LocalLambdaContext("ingest", 60))
    finally:
        logger.registered_handler.setStream(previous)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("uploads/nobody/01NOPRODUCT/img1.jpg", "no such product or photo (deleted, or never created)"),
        ("uploads/not-a-valid-key.gif", "not an upload key"),
    ],
)
def test_an_upload_for_no_product_is_dropped_and_logged(provisioned: str, key: str, reason: str) -> None:
    boto3.client("s3").put_object(Bucket="intellipost-local-media", Key=key, Body=b"x")
    lines = _invoke_ingest(key)
    [dropped] = [line for line in lines if line["message"] == "upload dropped"]
    assert dropped["key"] == key and dropped["reason"] == reason
    assert dropped["function_name"] == "ingest" and dropped["request_id"]
