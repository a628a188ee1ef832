"""What `make run` saves (every few seconds and at shutdown) comes back, exactly, in an empty emulator:
tables, objects, and every event message, the ones a runtime held in flight when it died included."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import boto3

from chalicelib import store
from infra.local.snapshot import Snapshot
from tests.photos import grocery_photo
from tests.selling import declared


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


def test_a_snapshot_from_before_photos_and_timelines_joined_the_products_table_comes_back_whole(
    api: Any, tmp_path: Path
) -> None:
    """Saved by an older `make run`, photos and timelines had tables of their own: restored, the
    product opens as it did (this one's rows are taken apart into that layout, then restored)."""
    seller = api.seller()
    created = seller.call(
        "POST", "/products", {"prompt": "leche", "images": declared([grocery_photo()])}
    ).json
    product_id = created["product_id"]
    seller.call("PUT", f"/products/{product_id}/prompt", {"prompt": "leche entera"})
    before = store.products.with_photos_and_timeline(seller.user_id, product_id)
    assert before is not None and len(before[1]) == 1 and len(before[2]) >= 2

    products = os.environ["PRODUCTS_TABLE"]
    prefix = products.removesuffix("-products")
    legacy: dict[str, list[dict[str, Any]]] = {
        products: [],
        f"{prefix}-images": [],
        f"{prefix}-product-events": [],
    }
    dynamodb = boto3.client("dynamodb")
    rows = dynamodb.query(
        TableName=products,
        KeyConditionExpression="user_id = :owner",
        ExpressionAttributeValues={":owner": {"S": seller.user_id}},
        ConsistentRead=True,
    )["Items"]
    for row in rows:
        key = row.pop("sort_key")
        dynamodb.delete_item(TableName=products, Key={"user_id": row["user_id"], "sort_key": key})
        if "#photo#" in key["S"]:
            row["product_id"] = row.pop("photo_of")
            legacy[f"{prefix}-images"].append(row)
        elif "#event#" in key["S"]:
            del row["user_id"]
            legacy[f"{prefix}-product-events"].append({**row, "product_id": {"S": product_id}})
        else:
            legacy[products].append(row)
    (tmp_path / "tables").mkdir()
    for table, items in legacy.items():
        (tmp_path / "tables" / f"{table}.jsonl").write_text(
            "".join(json.dumps(item) + "\n" for item in items)
        )
    assert store.products.with_photos_and_timeline(seller.user_id, product_id) is None

    assert Snapshot(tmp_path).restore()["items"] == len(rows)
    assert store.products.with_photos_and_timeline(seller.user_id, product_id) == before
    # The next save keeps today's tables only: the old layout is not restored a second time.
    Snapshot(tmp_path).save([products], [])
    assert [path.stem for path in (tmp_path / "tables").glob("*.jsonl")] == [products]
