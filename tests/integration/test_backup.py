"""`make backup` -> a fresh emulator -> `make restore`: every row and every object comes back unchanged.

Finding the running `make run` from its state folder, on whatever port, is proven against a real
stack in tests/e2e/test_local_stack.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local import backup as backup_command
from infra.local import emulator
from infra.local.backup import FORMAT_VERSION, BackupError, backup, main, restore, unpack
from infra.local.snapshot import Snapshot
from infra.local.stack import STACK_RECORD, running_stack
from tests.conftest import stop_process_group

BUCKET = os.environ["MEDIA_BUCKET"]


def _tables() -> list[str]:
    from chalicelib.store.models import ALL_MODELS

    return [model.Meta.table_name for model in ALL_MODELS]


def _rows(endpoint: str) -> dict[str, list[str]]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    rows = {}
    for table in _tables():
        items = [
            item
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
        rows[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
    return rows


def _objects(endpoint: str) -> dict[str, tuple[bytes, str]]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for summary in page.get("Contents", []):
            obj = s3.get_object(Bucket=BUCKET, Key=summary["Key"])
            found[summary["Key"]] = (obj["Body"].read(), obj["ContentType"])
    return found


@pytest.fixture
def fresh() -> Iterator[str]:
    """Another moto server, empty: what a new `make run` starts."""
    port = emulator.free_port()
    process = emulator.start_moto(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(process)


def _provision_like(source: str, target: str) -> str:
    """The app's tables and bucket on `target` (as the provisioner makes them) and an S3 -> SQS
    notification on every object, so a restore that fired events would leave messages behind."""
    src, dst = boto3.client("dynamodb", endpoint_url=source), boto3.client("dynamodb", endpoint_url=target)
    for table in _tables():
        described = src.describe_table(TableName=table)["Table"]
        spec: dict[str, Any] = {
            "TableName": table,
            "KeySchema": described["KeySchema"],
            "AttributeDefinitions": described["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if described.get("GlobalSecondaryIndexes"):
            spec["GlobalSecondaryIndexes"] = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                for index in described["GlobalSecondaryIndexes"]
            ]
        dst.create_table(**spec)
    s3, sqs = boto3.client("s3", endpoint_url=target), boto3.client("sqs", endpoint_url=target)
    s3.create_bucket(Bucket=BUCKET)
    url = sqs.create_queue(QueueName="every-object")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "all", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    sqs.purge_queue(QueueUrl=url)  # moto's test event for the new configuration
    return str(url)


def _some_state(api: Any) -> None:
    """Rows from the real API (seller, session, product, photos, timeline) and odd objects, outside
    the prefixes that trigger functions (the session's emulator has its events switched on)."""
    seller = api.seller()
    created = seller.call(
        "POST",
        "/products",
        {
            "prompt": "mate de calabaza",
            "images": [{"file_name": "a.jpg", "content_type": "image/jpeg", "size": 10}],
        },
    )
    assert created.status_code == 201, created.json
    s3 = boto3.client("s3")
    product = created.json["product_id"]
    s3.put_object(
        Bucket=BUCKET,
        Key=f"processed/{seller.user_id}/{product}/main/1.jpg",
        Body=bytes(range(256)) * 300,
        ContentType="image/jpeg",
    )
    s3.put_object(Bucket=BUCKET, Key="odd key/ü & %2F.txt", Body=b"\x00text\xff")


def test_backup_then_restore_into_a_fresh_emulator_changes_nothing(
    api: Any, provisioned: str, fresh: str, tmp_path: Path
) -> None:
    _some_state(api)
    before_rows, before_objects = _rows(provisioned), _objects(provisioned)
    assert sum(map(len, before_rows.values())) > 0 and before_objects

    archive, manifest = backup(tmp_path / "backups", _tables(), [BUCKET], provisioned, tmp_path / "none")
    assert archive.name.startswith("intellipost-") and archive.name.endswith(".tar.gz")
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["tables"] == {table: len(rows) for table, rows in before_rows.items()}
    assert manifest["object_count"] == len(before_objects)
    assert set(manifest["objects"][BUCKET]) == set(before_objects)

    queue = _provision_like(provisioned, fresh)
    said = restore(archive, tmp_path / "state" / "snapshot", endpoint=fresh)
    assert "into the emulator" in said

    assert _rows(fresh) == before_rows  # every row, every attribute
    assert _objects(fresh) == before_objects  # every byte, every content type
    sqs, s3 = boto3.client("sqs", endpoint_url=fresh), boto3.client("s3", endpoint_url=fresh)
    waiting = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    # No object fired its event again (S3's s3:TestEvent for the restored configuration names none).
    assert [m["Body"] for m in waiting if "Records" in json.loads(m["Body"])] == []
    assert s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"]  # events back on
    assert not (tmp_path / "state" / "snapshot").exists()  # loaded directly, nothing staged

    # A second restore would merge into live data: refused, saying what to do.
    with pytest.raises(BackupError, match="already holds data"):
        restore(archive, tmp_path / "state" / "snapshot", endpoint=fresh)


def test_without_an_emulator_the_backup_becomes_the_next_runs_snapshot(
    api: Any, provisioned: str, fresh: str, tmp_path: Path
) -> None:
    _some_state(api)
    archive, _ = backup(tmp_path, _tables(), [BUCKET], provisioned, tmp_path / "none")
    state = tmp_path / "state"
    (state / "snapshot" / "tables").mkdir(parents=True)
    (state / "snapshot" / "tables" / "old.jsonl").write_text("{}\n")

    said = restore(archive, state / "snapshot")
    assert "next `make run`" in said
    [aside] = [p for p in state.iterdir() if p.name.startswith("snapshot.before-restore-")]
    assert (aside / "tables" / "old.jsonl").read_text() == "{}\n"  # moved aside, never deleted
    assert not (state / "snapshot" / "manifest.json").exists()

    # What `make run` does next: provision, restore the snapshot, then switch the events on.
    _provision_like(provisioned, fresh)
    Snapshot(state / "snapshot", endpoint_url=fresh).restore()
    assert _rows(fresh) == _rows(provisioned)
    assert _objects(fresh) == _objects(provisioned)

    # And with no stack running, `make backup` archives that saved state, saying when it was saved.
    moment = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    first, manifest = backup(tmp_path / "again", _tables(), [BUCKET], None, state / "snapshot", moment)
    second, _ = backup(tmp_path / "again", _tables(), [BUCKET], None, state / "snapshot", moment)
    assert first.name == "intellipost-20261128T120000Z.tar.gz" != second.name  # none overwritten
    newest = max(path.stat().st_mtime for path in (state / "snapshot" / "tables").iterdir())
    saved = f"{datetime.fromtimestamp(newest, UTC):%Y-%m-%d %H:%M:%S} UTC"
    assert manifest["source"].startswith(f"snapshot {state / 'snapshot'}, saved {saved}")
    assert "`make run` is not running" in manifest["source"]
    assert manifest["row_count"] == sum(map(len, _rows(fresh).values()))


def _archive_with(
    tmp_path: Path, manifest: dict[str, Any] | None, extra: dict[str, bytes] | None = None
) -> Path:
    path = tmp_path / "made.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        files = dict(extra or {})
        if manifest is not None:
            files["manifest.json"] = json.dumps(manifest).encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _manifest(**changes: Any) -> dict[str, Any]:
    return {
        "format": "intellipost-backup",
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "source": "test",
        "tables": {},
        "objects": {},
        "row_count": 0,
        "object_count": 0,
        **changes,
    }


def test_restore_says_what_is_wrong_with_the_file(tmp_path: Path) -> None:
    target = tmp_path / "unpacked"
    with pytest.raises(BackupError, match="no backup at"):
        unpack(tmp_path / "missing.tar.gz", target)
    (tmp_path / "notes.txt").write_text("not an archive")
    with pytest.raises(BackupError, match="is not a backup archive"):
        unpack(tmp_path / "notes.txt", target)
    with pytest.raises(BackupError, match=r"has no manifest\.json"):
        unpack(_archive_with(tmp_path, None, {"tables/t.jsonl": b""}), tmp_path / "a")
    with pytest.raises(BackupError, match="format version 2; this IntelliPost reads format version 1"):
        unpack(_archive_with(tmp_path, _manifest(format_version=2)), tmp_path / "b")
    with pytest.raises(BackupError, match="is damaged"):
        unpack(
            _archive_with(tmp_path, _manifest(tables={"t": 2}), {"tables/t.jsonl": b"{}\n"}), tmp_path / "c"
        )
    with pytest.raises(BackupError, match="cannot be read"):
        unpack(_archive_with(tmp_path, _manifest(), {"../outside.txt": b"x"}), tmp_path / "d")
    assert not (tmp_path / "outside.txt").exists()


def test_a_restore_under_a_running_stack_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "snapshot" / "tables").mkdir(parents=True)
    archive = _archive_with(tmp_path, _manifest())
    stack = {"pid": 4242, "endpoint": "http://127.0.0.1:39999"}
    with pytest.raises(BackupError) as refused:
        restore(archive, state / "snapshot", stack)
    said = str(refused.value)
    assert "`make run` is running" in said and "pid 4242" in said and "http://127.0.0.1:39999" in said
    assert "stop it (Ctrl-C), run `make restore FILE=...` again, then `make run`" in said
    assert [p.name for p in state.iterdir()] == ["snapshot"]  # nothing moved, nothing staged


def test_a_stack_record_counts_only_while_its_process_runs(tmp_path: Path) -> None:
    record = tmp_path / STACK_RECORD
    assert running_stack(tmp_path) is None  # no record
    gone = subprocess.Popen(["true"])
    gone.wait()
    record.write_text(json.dumps({"pid": gone.pid, "endpoint": "http://127.0.0.1:1"}))
    assert running_stack(tmp_path) is None  # what a `kill -9` of `make run` leaves behind
    record.write_text(json.dumps({"pid": os.getpid(), "endpoint": "http://127.0.0.1:1"}))
    assert running_stack(tmp_path) is None  # a live process, but not a stack: the pid was reused


def test_the_command_line_explains_instead_of_tracing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_command, "STATE_DIR", tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{emulator.free_port()}")
    assert main(["restore", str(tmp_path / "nope.tar.gz")]) == 1
    assert "restore failed: no backup at" in capsys.readouterr().err
    assert main(["restore"]) == 1
    assert "make restore FILE=" in capsys.readouterr().err
    assert main(["backup", "--out", str(tmp_path / "out")]) == 1
    assert "backup failed: the emulator at http://127.0.0.1:" in capsys.readouterr().err


def test_an_emulator_make_run_did_not_provision_is_named_not_traced(
    fresh: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_command, "STATE_DIR", tmp_path / "state")
    monkeypatch.setenv("AWS_ENDPOINT_URL", fresh)  # answers, but has none of the app's tables
    assert main(["backup", "--out", str(tmp_path)]) == 1
    assert f"backup failed: the emulator at {fresh} refused" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no half-written archive left behind
