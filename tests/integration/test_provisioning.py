"""The provisioner builds what the models and the app's event sources declare, idempotently."""

import json
import os

import boto3
from chalice.app import S3EventConfig

from app import app
from chalicelib.store.models import ALL_MODELS
from chalicelib.store.models import ProductRow as Product
from infra.local.provision import provision_resources, switch_on_events


def test_tables_have_the_models_keys_and_indexes(provisioned: str) -> None:
    dynamodb = boto3.client("dynamodb")
    for model in ALL_MODELS:
        table = dynamodb.describe_table(TableName=model.Meta.table_name)["Table"]
        keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
        assert keys["HASH"] == model._hash_keyname
        assert keys.get("RANGE") == model._range_keyname
    products = dynamodb.describe_table(TableName=Product.Meta.table_name)["Table"]
    indexes = {index["IndexName"]: index for index in products["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by-status", "in-progress"}
    assert {k["AttributeName"] for k in indexes["by-status"]["KeySchema"]} == {"user_id", "status_sort"}
    assert {k["AttributeName"] for k in indexes["in-progress"]["KeySchema"]} == {"working", "updated_at"}


def test_each_s3_handler_gets_a_filtered_notification_and_a_dead_letter_queue(provisioned: str) -> None:
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    config = s3.get_bucket_notification_configuration(Bucket=os.environ["MEDIA_BUCKET"])
    by_id = {q["Id"]: q for q in config["QueueConfigurations"]}
    assert set(by_id) == {source.name for source in app.event_sources if isinstance(source, S3EventConfig)}
    rules = by_id["ingest"]["Filter"]["Key"]["FilterRules"]
    assert {"Name": "Prefix", "Value": "uploads/"} in rules or {
        "Name": "prefix",
        "Value": "uploads/",
    } in rules
    url = sqs.get_queue_url(QueueName=f"{os.environ['EVENT_QUEUE_PREFIX']}-ingest")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f"{os.environ['EVENT_QUEUE_PREFIX']}-ingest-dlq")


def test_provisioning_twice_changes_nothing(provisioned: str) -> None:
    routes = provision_resources(
        app, os.environ["EVENT_QUEUE_PREFIX"], ALL_MODELS, {os.environ["MEDIA_BUCKET"]}, visibility_timeout=91
    )
    switch_on_events(routes)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=routes[0].queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "91"  # settings of an existing queue are brought up to date
    queues = boto3.client("sqs").list_queues(QueueNamePrefix=os.environ["EVENT_QUEUE_PREFIX"])["QueueUrls"]
    assert len(queues) == 2 * len(routes)  # each handler's queue and its dead-letter queue
