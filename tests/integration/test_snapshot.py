"""What `make run` saves (every few seconds and at shutdown) comes back, exactly, in an empty emulator:
tables, objects, and every event message, the ones a runtime held in flight when it died included."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from infra.local.snapshot import Snapshot


def test_tables_objects_and_every_event_survive_a_round_trip(aws: str, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    table, bucket, queue = f"snap-{suffix}", f"snap-{suffix}", f"snap-{suffix}"
    dynamodb, s3, sqs = boto3.client("dynamodb"), boto3.client("s3"), boto3.client("sqs")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]

    items = [{"pk": {"S": f"row-{n}"}, "n": {"N": str(n)}, "tags": {"SS": ["a", "b"]}} for n in range(60)]
    for item in items:
        dynamodb.put_item(TableName=table, Item=item)
    photo = bytes(range(256)) * 100
    s3.put_object(Bucket=bucket, Key="uploads/u/p/i.jpg", Body=photo, ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="odd key/ü & %2F.txt", Body=b"text")
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody='{"Records": []}',
        MessageAttributes={"reason": {"DataType": "String", "StringValue": "why"}},
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"held": "in flight"}')
    # A runtime takes one and dies holding it: hidden for its visibility timeout, not lost.
    [held] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=600)["Messages"]

    snapshot = Snapshot(tmp_path)
    assert snapshot.save([table], [bucket], [queue]) == 2  # the waiting one and the one in flight
    # A save takes nothing out of the queue: the running stack saves while its runtime works.
    [waiting] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"]
    assert waiting["Body"] != held["Body"]
    # A second save downloads nothing that did not change, and forgets deleted objects.
    s3.delete_object(Bucket=bucket, Key="odd key/ü & %2F.txt")
    snapshot.save([table], [bucket], [queue])

    # Empty everything, as a fresh emulator would be.
    for item in items:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})
    s3.delete_object(Bucket=bucket, Key="uploads/u/p/i.jpg")
    sqs.purge_queue(QueueUrl=queue_url)

    counts = Snapshot(tmp_path).restore()
    assert counts == {"items": 60, "objects": 1, "messages": 2}
    restored = dynamodb.scan(TableName=table)["Items"]
    assert sorted(restored, key=lambda i: i["pk"]["S"]) == sorted(items, key=lambda i: i["pk"]["S"])
    obj = s3.get_object(Bucket=bucket, Key="uploads/u/p/i.jpg")
    assert obj["Body"].read() == photo and obj["ContentType"] == "image/jpeg"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["uploads/u/p/i.jpg"]
    restored_messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    by_body = {m["Body"]: m for m in restored_messages}
    assert set(by_body) == {'{"Records": []}', '{"held": "in flight"}'}  # both visible again
    assert by_body['{"Records": []}']["MessageAttributes"]["reason"]["StringValue"] == "why"
