"""Idempotent provisioning of the local stack: bucket(s), tables, queues, notifications.

Tables come from the PynamoDB models (keys and GSIs declared once); queues and S3 -> SQS
notifications come from `app.event_sources`, one notification id per handler so the emulator
applies each handler's prefix/suffix filter.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from typing import Any

import boto3
from chalice.app import Chalice
from pynamodb.models import Model

from infra.local.wiring import EventRoute, event_routes


def create_bucket(s3: Any, bucket: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)


def create_tables(models: tuple[type[Model], ...]) -> None:
    for model in models:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


def _ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> str:
    try:
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except sqs.exceptions.QueueNameExists:
        # Same name, other settings (an earlier run): bring the settings up to date.
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def create_queues(
    sqs: Any, routes: list[EventRoute], visibility_timeout: int, max_receive_count: int
) -> None:
    for route in routes:
        dlq_url = _ensure_queue(sqs, route.dead_letter_queue_name, {"MessageRetentionPeriod": "1209600"})
        # The runtime moves a poison message itself (with its reason) after its own attempts; the
        # redrive policy is the backstop for a message that crashes the runtime every time.
        redrive = {"deadLetterTargetArn": queue_arn(sqs, dlq_url), "maxReceiveCount": str(max_receive_count)}
        _ensure_queue(
            sqs,
            route.queue_name,
            {"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": json.dumps(redrive)},
        )


def configure_notifications(s3: Any, sqs: Any, routes: list[EventRoute]) -> None:
    by_bucket: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for route in routes:
        url = sqs.get_queue_url(QueueName=route.queue_name)["QueueUrl"]
        rules = [{"Name": "prefix", "Value": route.prefix}] if route.prefix else []
        if route.suffix:
            rules.append({"Name": "suffix", "Value": route.suffix})
        config: dict[str, Any] = {
            "Id": route.handler_name,
            "QueueArn": queue_arn(sqs, url),
            "Events": list(route.events),
        }
        if rules:
            config["Filter"] = {"Key": {"FilterRules": rules}}
        by_bucket[route.bucket].append(config)
    for bucket, queue_configs in by_bucket.items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configs}
        )


def provision_resources(
    app: Chalice,
    queue_prefix: str,
    models: tuple[type[Model], ...],
    buckets: set[str],
    *,
    visibility_timeout: int = 90,
    max_receive_count: int = 6,
) -> list[EventRoute]:
    """Everything but the notifications: a snapshot is restored before those are switched on,
    so restoring objects does not replay their events."""
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    routes = event_routes(app, queue_prefix)
    for bucket in buckets | {route.bucket for route in routes}:
        create_bucket(s3, bucket)
    create_tables(models)
    create_queues(sqs, routes, visibility_timeout, max_receive_count)
    return routes


def switch_on_events(routes: list[EventRoute]) -> None:
    configure_notifications(boto3.client("s3"), boto3.client("sqs"), routes)
