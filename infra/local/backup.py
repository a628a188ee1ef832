"""`make backup` and `make restore FILE=...`: the local stack's tables and objects in one archive.

The archive is the snapshot layout of `infra/local/snapshot.py` (one way to dump and load, reused
here) plus a manifest, gzipped:

  manifest.json                 format, format_version, created_at, source, rows per table,
                                objects per bucket with bytes, content type and sha256
  tables/<table>.jsonl          one DynamoDB-JSON item per line
  objects/<bucket>.index.json   ETag and content type per key; objects/<bucket>/<quoted key> bytes

Which data: the `make run` holding the state folder (INTELLIPOST_STATE_DIR, default `.local/`)
says where its emulator is (`<state>/stack.json`, infra/local/stack.py), whatever its port, and a
backup reads that live emulator. Without a running stack: the emulator AWS_ENDPOINT_URL names, when
set (LocalStack, say); else the state the last `make run` saved (`<state>/snapshot/`), named with the
time it was saved.

Restore never merges into data it would shadow:
  - `make run` is running on the state folder: refused, saying what to do (its next periodic
    snapshot would overwrite a restored one, and its runtime works on the live data);
  - AWS_ENDPOINT_URL names an emulator `make run` did not start: loaded into it directly if it is
    empty (refused if it holds data), with the bucket's event notifications paused meanwhile so
    restored uploads and jobs do not run again;
  - otherwise the archive becomes `<state>/snapshot/` (the one there is moved aside, never
    deleted), and the next `make run` loads it before it switches the S3 events on.
Events (waiting or in flight), the MercadoLibre sandbox's state and `<state>/secrets/` are not in a
backup.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.local import emulator
from infra.local.environment import (
    DEFAULT_ENDPOINT,
    STATE_DIR,
    apply,
    emulator_environment,
    stage_environment,
)
from infra.local.snapshot import Snapshot
from infra.local.stack import running_stack

FORMAT = "intellipost-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONTENT = ("tables", "objects")  # what a backup holds; queues/ (waiting events) stays out


class BackupError(Exception):
    """Something the person running `make backup`/`make restore` can fix; the message says what."""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _unused(path: Path) -> Path:
    """`path`, or `path` with -2, -3... when that second's name is taken: nothing is overwritten."""
    stem, suffix = (
        (path.name.removesuffix(".tar.gz"), ".tar.gz") if path.name.endswith(".tar.gz") else (path.name, "")
    )
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{stem}-{n}{suffix}")
    return candidate


# -- backup -----------------------------------------------------------------------------------------


def backup(
    out_dir: Path,
    tables: list[str],
    buckets: list[str],
    endpoint: str | None,
    snapshot_dir: Path,
    now: datetime | None = None,
) -> tuple[Path, dict[str, Any]]:
    """One archive of every table and object: from the live emulator at `endpoint`, or with None
    from the snapshot the last `make run` left. Returns the archive's path and its manifest."""
    created = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out_dir) as scratch:
        folder = Path(scratch)
        if endpoint is not None:
            if not emulator.is_up(endpoint):
                raise BackupError(f"the emulator at {endpoint} does not answer; is it still starting?")
            Snapshot(folder, endpoint_url=endpoint).save(tables, buckets)
            source = f"emulator at {endpoint}"
        elif (snapshot_dir / "tables").is_dir():
            for part in CONTENT:
                if (snapshot_dir / part).is_dir():
                    shutil.copytree(snapshot_dir / part, folder / part)
            saved = max(path.stat().st_mtime for path in (snapshot_dir / "tables").iterdir())
            source = (
                f"snapshot {snapshot_dir}, saved {datetime.fromtimestamp(saved, UTC):%Y-%m-%d %H:%M:%S} UTC "
                "(`make run` is not running)"
            )
        else:
            raise BackupError(
                f"nothing to back up: `make run` is not running on {snapshot_dir.parent} and there is no "
                f"saved state in {snapshot_dir}; start `make run` (or set AWS_ENDPOINT_URL to the emulator "
                "to read)"
            )
        manifest = _manifest(folder, created, source)
        target = _unused(out_dir / f"intellipost-{_stamp(created)}.tar.gz")
        partial = target.with_name(f".{target.name}.partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(created.timestamp())
            archive.addfile(info, io.BytesIO(data))
            for part in CONTENT:
                if (folder / part).is_dir():
                    archive.add(folder / part, arcname=part)
        os.replace(partial, target)  # a half-written archive never carries the final name
    return target, manifest


def _manifest(folder: Path, created: datetime, source: str) -> dict[str, Any]:
    """What the archive holds, counted and hashed from the files themselves."""
    tables = {
        path.stem: sum(1 for line in path.read_text().splitlines() if line)
        for path in sorted((folder / "tables").glob("*.jsonl"))
    }
    objects: dict[str, dict[str, dict[str, Any]]] = {}
    for index_path in sorted((folder / "objects").glob("*.index.json")):
        bucket = index_path.name.removesuffix(".index.json")
        objects[bucket] = {}
        for key, meta in sorted(json.loads(index_path.read_text()).items()):
            body = (folder / "objects" / bucket / quote(key, safe="")).read_bytes()
            objects[bucket][key] = {
                "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "content_type": meta["content_type"],
            }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created.isoformat(),
        "source": source,
        "tables": tables,
        "row_count": sum(tables.values()),
        "object_count": sum(len(keys) for keys in objects.values()),
        "objects": objects,
    }


# -- restore ----------------------------------------------------------------------------------------


def restore(
    archive: Path, snapshot_dir: Path, stack: dict[str, Any] | None = None, endpoint: str | None = None
) -> str:
    """Bring a backup back (see the module's docstring for where): `stack` is the running `make run`
    on the state folder, if any; `endpoint` an emulator it did not start. Returns what happened."""
    if stack is not None:
        raise BackupError(
            f"`make run` is running on {snapshot_dir.parent} (pid {stack['pid']}, emulator "
            f"{stack['endpoint']}); a restore under it would be merged into live data or overwritten by "
            "its next snapshot: stop it (Ctrl-C), run `make restore FILE=...` again, then `make run`"
        )
    _check_file(archive)
    scratch_root = snapshot_dir.parent
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="restore-", dir=scratch_root) as scratch:
        folder = Path(scratch) / "snapshot"
        manifest = unpack(archive, folder)
        rows, count = manifest["row_count"], manifest["object_count"]
        if endpoint is not None:
            if not emulator.is_up(endpoint):
                raise BackupError(f"no emulator answers at {endpoint} (AWS_ENDPOINT_URL)")
            _load_into_empty(folder, manifest, endpoint)
            return f"Restored {rows} rows and {count} objects from {archive} into the emulator at {endpoint}."
        moved = ""
        if snapshot_dir.exists():
            aside = _unused(
                snapshot_dir.with_name(f"{snapshot_dir.name}.before-restore-{_stamp(datetime.now(UTC))}")
            )
            os.replace(snapshot_dir, aside)
            moved = f" The state that was there is kept in {aside}."
        os.replace(folder, snapshot_dir)
    return (
        f"{archive} ({rows} rows, {count} objects) is now the saved state in {snapshot_dir}; the next "
        f"`make run` loads it before switching the S3 events on.{moved}"
    )


def _check_file(archive: Path) -> None:
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}: give the path `make backup` printed (FILE=...)")
    if not tarfile.is_tarfile(archive):
        raise BackupError(
            f"{archive} is not a backup archive (expected the .tar.gz that `make backup` writes)"
        )


def unpack(archive: Path, folder: Path) -> dict[str, Any]:
    """Extract and check an archive: its manifest, its format version and every row count and hash."""
    _check_file(archive)
    try:
        with tarfile.open(archive, "r:*") as tar:
            names = set(tar.getnames())
            if MANIFEST not in names:
                raise BackupError(f"{archive} has no {MANIFEST}: it was not written by `make backup`")
            # The data filter refuses absolute paths, `..`, links out of the folder and devices.
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"{archive} cannot be read as a backup archive ({error})") from error
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except ValueError as error:
        raise BackupError(f"{archive}: {MANIFEST} is not JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: {MANIFEST} does not describe an IntelliPost backup")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is a backup of format version {version}; this IntelliPost reads format version "
            f"{FORMAT_VERSION} only"
        )
    found = _manifest(folder, datetime.fromisoformat(manifest["created_at"]), manifest["source"])
    for field in ("tables", "objects"):
        if found[field] != manifest[field]:
            raise BackupError(
                f"{archive} is damaged: its {field} do not match its manifest (missing or changed)"
            )
    (folder / MANIFEST).unlink()
    return manifest


def _load_into_empty(folder: Path, manifest: dict[str, Any], endpoint: str) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    for table in manifest["tables"]:
        try:
            holds = dynamodb.scan(TableName=table, Limit=1, Select="COUNT")["Count"]
        except dynamodb.exceptions.ResourceNotFoundException:
            raise BackupError(
                f"the emulator at {endpoint} has no table {table}: restore into one `make run` started"
            ) from None
        if holds:
            raise _not_empty(endpoint, f"table {table}")
    for bucket in manifest["objects"]:
        try:
            holds = s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0)
        except s3.exceptions.NoSuchBucket:
            raise BackupError(
                f"the emulator at {endpoint} has no bucket {bucket}: restore into one `make run` started"
            ) from None
        if holds:
            raise _not_empty(endpoint, f"bucket {bucket}")
    # Restored uploads and jobs must not run the pipeline again: events off while they go in.
    notifications = {bucket: _notifications(s3, bucket) for bucket in manifest["objects"]}
    try:
        for bucket in notifications:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        Snapshot(folder, endpoint_url=endpoint).restore()
    finally:
        for bucket, configuration in notifications.items():
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)


def _notifications(s3: Any, bucket: str) -> dict[str, Any]:
    configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    configuration.pop("ResponseMetadata", None)
    return dict(configuration)


def _not_empty(endpoint: str, what: str) -> BackupError:
    return BackupError(
        f"the emulator at {endpoint} already holds data ({what} is not empty) and a restore never merges: "
        "restore into an empty one"
    )


# -- command line -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.backup", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write every table and object to one archive")
    make.add_argument("--out", type=Path, default=STATE_DIR / "backups", help="folder for the archive")
    back = commands.add_parser("restore", help="bring an archive back")
    back.add_argument("file", nargs="?", default="", help="the archive `make backup` wrote")
    args = parser.parse_args(argv)

    stack = running_stack(STATE_DIR)
    named = os.environ.get("AWS_ENDPOINT_URL") or None  # an emulator `make run` did not start
    endpoint = stack["endpoint"] if stack else named
    apply(emulator_environment(endpoint or DEFAULT_ENDPOINT))
    snapshot_dir = STATE_DIR / "snapshot"
    try:
        if args.command == "backup":
            # Imported after the environment is set: the models read their table names at import.
            from chalicelib.store.models import ALL_MODELS

            tables = [model.Meta.table_name for model in ALL_MODELS]
            buckets = [stage_environment()["MEDIA_BUCKET"]]
            path, manifest = backup(args.out, tables, buckets, endpoint, snapshot_dir)
            print(
                f"Backup of {manifest['row_count']} rows and {manifest['object_count']} objects "
                f"from the {manifest['source']}:"
            )
            print(path)
        else:
            if not args.file:
                raise BackupError("which backup? `make restore FILE=.local/backups/intellipost-....tar.gz`")
            print(restore(Path(args.file), snapshot_dir, stack, named))
    except BackupError as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        # The emulator answered, but not as `make run` provisions it (another stack, or stopping).
        print(f"{args.command} failed: the emulator at {endpoint} refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
