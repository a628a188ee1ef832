"""The local emulator keeps DynamoDB's promise that the pipeline's exactly-once steps rest on.

Against plain `python -m moto.server` this fails within a few dozen rounds (moto's DynamoDB takes no
lock); infra/local/moto_server.py serializes DynamoDB requests.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.exceptions import ClientError


def test_racing_conditional_writes_let_exactly_one_through(aws) -> None:  # type: ignore[no-untyped-def]
    """Many deliveries racing to claim one item (`status = declared`, as ingest does): one wins."""
    dynamodb = boto3.client("dynamodb")
    table = f"atomicity-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def claim(item: str, who: int) -> bool:
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"id": {"S": item}},
                UpdateExpression="SET #s = :accepted, claimed_by = :who",
                ConditionExpression="#s = :declared",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":accepted": {"S": "accepted"},
                    ":declared": {"S": "declared"},
                    ":who": {"N": str(who)},
                },
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        for round_ in range(150):
            item = f"photo-{round_}"
            dynamodb.put_item(TableName=table, Item={"id": {"S": item}, "status": {"S": "declared"}})
            winners = sum(pool.map(lambda who, item=item: claim(item, who), range(16)))
            assert winners == 1, f"round {round_}: {winners} deliveries passed the same condition"
