"""What `make run` saves at shutdown comes back, exactly, in an empty emulator."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from infra.local.snapshot import Snapshot


def test_tables_objects_and_waiting_events_survive_a_round_trip(aws: str, tmp_path: Path) -> None:
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

    snapshot = Snapshot(tmp_path)
    snapshot.save([table], [bucket])
    # A second save downloads nothing that did not change, and forgets deleted objects.
    s3.delete_object(Bucket=bucket, Key="odd key/ü & %2F.txt")
    snapshot.save([table], [bucket])
    assert snapshot.save_queues([queue]) == 1

    # Empty everything, as a fresh emulator would be.
    for item in items:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})
    s3.delete_object(Bucket=bucket, Key="uploads/u/p/i.jpg")
    sqs.purge_queue(QueueUrl=queue_url)

    counts = Snapshot(tmp_path).restore()
    assert counts == {"items": 60, "objects": 1, "messages": 1}
    restored = dynamodb.scan(TableName=table)["Items"]
    assert sorted(restored, key=lambda i: i["pk"]["S"]) == sorted(items, key=lambda i: i["pk"]["S"])
    obj = s3.get_object(Bucket=bucket, Key="uploads/u/p/i.jpg")
    assert obj["Body"].read() == photo and obj["ContentType"] == "image/jpeg"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["uploads/u/p/i.jpg"]
    [message] = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == '{"Records": []}'
    assert message["MessageAttributes"]["reason"]["StringValue"] == "why"
