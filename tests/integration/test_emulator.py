"""The local emulator keeps the promises of AWS that moto alone does not (infra/local/moto_server.py).

DynamoDB's atomic conditional writes: against plain `python -m moto.server` the race test fails
within a few dozen rounds (moto's DynamoDB takes no lock). S3's presigned POST policies: every policy
test runs against plain moto too, where it is expected to fail (strict xfail: should moto start
enforcing them, the run says so). And its DynamoDB answers, written faster, are the bytes moto's own
serializer writes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local import emulator
from infra.local.moto_server import DynamoDBSerializer, speed_up_moto
from infra.local.post_policy import sign
from infra.local.processes import die_with_parent
from tests.conftest import stop_process_group


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


# -- what the emulator's wrapper adds: S3's checks on browser uploads (infra/local/post_policy.py) ---

MAX_BYTES = 10


@pytest.fixture(
    scope="module",
    params=[
        "ours",
        pytest.param(
            "plain moto",
            marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason="moto ignores POST policies"),
        ),
    ],
)
def emulator_s3(request: pytest.FixtureRequest, aws: str) -> Iterator[Any]:
    """An S3 client on our emulator, and on plain `python -m moto.server`, where every test below
    fails: it stores whatever a form posts."""
    if request.param == "ours":
        yield _s3(aws)
        return
    port = emulator.free_port()
    plain = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        emulator.wait_until_up(f"http://127.0.0.1:{port}", plain)
        yield _s3(f"http://127.0.0.1:{port}")
    finally:
        stop_process_group(plain)


def _s3(endpoint: str) -> Any:
    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(signature_version="s3v4"))
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=POST_BUCKET)
    return s3


POST_BUCKET = "post-policy-bucket"


def _form(s3: Any, key: str, expires_in: int = 900) -> dict[str, Any]:
    """The form the API hands a browser (chalicelib/store/blobs.py): key, type and size pinned."""
    form: dict[str, Any] = s3.generate_presigned_post(
        Bucket=POST_BUCKET,
        Key=key,
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, MAX_BYTES]],
        ExpiresIn=expires_in,
    )
    return form


def _stored(s3: Any, key: str) -> bool:
    try:
        s3.head_object(Bucket=POST_BUCKET, Key=key)
    except ClientError:
        return False
    return True


def _post(form: dict[str, Any], data: bytes, **changes: str) -> tuple[int, str, str]:
    answer = requests.post(
        form["url"], data={**form["fields"], **changes}, files={"file": ("photo.jpg", data)}, timeout=10
    )
    code = answer.text.split("<Code>", 1)[-1].split("</Code>", 1)[0] if "<Code>" in answer.text else ""
    return answer.status_code, code, answer.text


def test_an_upload_larger_than_the_policy_allows_is_refused_and_not_stored(emulator_s3: Any) -> None:
    key = f"uploads/{uuid.uuid4().hex}.jpg"
    status, code, text = _post(_form(emulator_s3, key), b"x" * 100)
    assert (status, code) == (400, "EntityTooLarge"), text
    assert "<ProposedSize>100</ProposedSize><MaxSizeAllowed>10</MaxSizeAllowed>" in text
    assert not _stored(emulator_s3, key)


@pytest.mark.parametrize(
    ("case", "status", "code", "says"),
    [
        ("empty file", 400, "EntityTooSmall", "<MinSizeAllowed>1</MinSizeAllowed>"),
        ("expired", 403, "AccessDenied", "Invalid according to Policy: Policy expired."),
        ("another content type", 403, "AccessDenied", 'Policy Condition failed: ["eq", "$Content-Type"'),
        ("another key", 403, "AccessDenied", 'Policy Condition failed: ["eq", "$key"'),
        ("a field the policy does not name", 403, "AccessDenied", "Extra input fields: x-amz-meta-owner"),
        ("a forged signature", 403, "SignatureDoesNotMatch", "does not match the signature"),
        ("a policy edited after signing", 403, "SignatureDoesNotMatch", "does not match the signature"),
        ("no policy at all", 403, "AccessDenied", "Access Denied"),
    ],
)
def test_every_rule_of_the_policy_is_held(
    emulator_s3: Any, case: str, status: int, code: str, says: str
) -> None:
    key = f"uploads/{uuid.uuid4().hex}.jpg"
    form = _form(emulator_s3, key, expires_in=-1 if case == "expired" else 900)
    data, changes = b"12345", {}
    if case == "empty file":
        data = b""
    elif case == "another content type":
        changes = {"Content-Type": "text/html"}
    elif case == "another key":
        changes = {"key": f"processed/{uuid.uuid4().hex}.jpg"}
    elif case == "a field the policy does not name":
        changes = {"x-amz-meta-owner": "someone"}
    elif case == "a forged signature":
        changes = {"x-amz-signature": "0" * 64}
    elif case == "a policy edited after signing":
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        policy["conditions"] = [c for c in policy["conditions"] if not isinstance(c, list)]  # no size limit
        changes = {"policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    elif case == "no policy at all":
        form = {"url": form["url"], "fields": {"key": key, "Content-Type": "image/jpeg"}}
    answer = _post(form, data, **changes)
    assert answer[:2] == (status, code), answer[2]
    assert says in answer[2]
    assert not _stored(emulator_s3, key) and not _stored(emulator_s3, changes.get("key", key))


def test_an_upload_within_the_policy_is_stored_as_sent(aws: str) -> None:
    s3 = _s3(aws)
    key = f"uploads/{uuid.uuid4().hex}.jpg"
    status, _, text = _post(_form(s3, key), b"0123456789")  # the upper bound is inclusive
    assert status == 204, text
    stored = s3.get_object(Bucket=POST_BUCKET, Key=key)
    assert stored["Body"].read() == b"0123456789" and stored["ContentType"] == "image/jpeg"


def test_the_signature_is_awss_own_example() -> None:
    """S3's documented SigV4 POST example (sigv4-post-example): its policy and signature."""
    lines = [
        '{ "expiration": "2015-12-30T12:00:00.000Z",',
        '  "conditions": [',
        '    {"bucket": "sigv4examplebucket"},',
        '    ["starts-with", "$key", "user/user1/"],',
        '    {"acl": "public-read"},',
        '    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},',
        '    ["starts-with", "$Content-Type", "image/"],',
        '    {"x-amz-meta-uuid": "14365123651274"},',
        '    {"x-amz-server-side-encryption": "AES256"},',
        '    ["starts-with", "$x-amz-meta-tag", ""],',
        "",
        '    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},',
        '    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},',
        '    {"x-amz-date": "20151229T000000Z" }',
        "  ]",
        "}",
    ]
    policy = "\r\n".join(lines)  # byte for byte as the page gives it, CRLF line ends
    encoded = base64.b64encode(policy.encode()).decode()
    signature = sign(encoded, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20151229", "us-east-1")
    assert signature == "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"


def test_the_faster_emulator_answers_what_moto_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends
    from moto.core import serialize
    from moto.core.utils import get_service_model
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoResult

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    # Every kind of attribute value, nested, as moto's backend holds them.
    item = {
        "user_id": {"S": "u-1"},
        "empty": {"S": ""},
        "words": {"S": 'ñandú \u2713 "quoted"'},
        "number": {"N": "-12.50"},
        "binary": {"B": b64(b"\x00\xffbytes")},
        "strings": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2.5"]},
        "binaries": {"BS": [b64(b"x"), b64(b"\x01")]},
        "map": {
            "M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"M": {}}]}, "yes": {"BOOL": True}}
        },
        "no": {"BOOL": False},
        "nothing": {"NULL": True},
        "none": {"L": []},
    }
    typed = {name: DynamoType(value) for name, value in item.items()}
    answers = {
        "GetItem": {"Item": typed},
        "Query": {
            "Items": [typed, typed],
            "Count": 2,
            "ScannedCount": 2,
            "LastEvaluatedKey": {"user_id": typed["user_id"]},
        },
        "BatchGetItem": {"Responses": {"products": [typed]}, "UnprocessedKeys": {}},
        "ListTables": {"TableNames": ["products"]},
    }
    model = get_service_model("dynamodb")
    for operation, answer in answers.items():
        result = DynamoResult(answer).result
        bodies = [
            writer(
                operation_model=model.operation_model(operation),
                pretty_print=False,
                value_picker=serialize.XFormedAttributePicker(),
            ).serialize(result)["body"]
            for writer in (serialize.JSONSerializer, DynamoDBSerializer)
        ]
        assert bodies[0] == bodies[1], operation
    # Switched on as the emulator does (put back after the test): the same serializer, the same routes.
    monkeypatch.setattr(
        serialize, "SERVICE_SPECIFIC_SERIALIZERS", dict(serialize.SERVICE_SPECIFIC_SERIALIZERS)
    )
    listed = list(backends.list_of_moto_modules())
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    speed_up_moto()
    assert serialize.get_serializer_class("dynamodb", "json") is DynamoDBSerializer
    assert list(backends.list_of_moto_modules()) == listed and "dynamodb" in listed


# -- the launcher ---------------------------------------------------------------------------------


def test_a_moto_that_does_not_answer_in_time_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []

    class Recorded(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(emulator.subprocess, "Popen", Recorded)
    with pytest.raises(emulator.EmulatorError, match="did not answer"):
        emulator.start_moto(emulator.free_port(), timeout=0)
    [process] = started
    assert process.poll() is not None  # stopped and reaped, not left running
