"""Local persistence: the emulator keeps everything in memory, so the stack saves a snapshot.

`make run` saves every table, every object and every event message (waiting, in flight or delayed)
under the state folder, every few seconds and at shutdown, and restores them into the fresh
emulator on the next start (or after the emulator crashed), before the S3 notifications are
switched on so restored objects do not fire their events again.

Layout under <state>/snapshot/:
  tables/<table>.jsonl      one DynamoDB-JSON item per line
  objects/<bucket>/<quoted key>   object bytes; objects/<bucket>.index.json keeps ETag and type
  queues/<queue>.jsonl      message bodies and attributes, in flight ones included
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import requests


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]


class Snapshot:
    def __init__(self, folder: Path, endpoint_url: str | None = None) -> None:
        """`endpoint_url`: an emulator other than AWS_ENDPOINT_URL's (`make restore` into a fresh one)."""
        self.folder = folder
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
        self.s3 = boto3.client("s3", endpoint_url=endpoint_url)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint_url)

    @property
    def exists(self) -> bool:
        return (self.folder / "tables").is_dir()

    # -- save ------------------------------------------------------------------------------------

    def save(self, tables: Sequence[str], buckets: Sequence[str], queues: Sequence[str] = ()) -> int:
        """Every table, object and queue message; returns how many messages were kept."""
        for table in tables:
            lines = "".join(json.dumps(item) + "\n" for item in _scan(self.dynamodb, table))
            _write_atomically(self.folder / "tables" / f"{table}.jsonl", lines.encode())
        for bucket in buckets:
            self._save_bucket(bucket)
        return sum(self._save_queue(name) for name in queues)

    def _save_bucket(self, bucket: str) -> None:
        """Incremental: only objects whose ETag changed are downloaded again."""
        folder = self.folder / "objects" / bucket
        index_path = self.folder / "objects" / f"{bucket}.index.json"
        old_index = json.loads(index_path.read_text()) if index_path.exists() else {}
        index: dict[str, dict[str, str]] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary["ETag"]
                path = folder / quote(key, safe="")
                if old_index.get(key, {}).get("etag") == etag and path.exists():
                    index[key] = old_index[key]
                    continue
                obj = self.s3.get_object(Bucket=bucket, Key=key)
                _write_atomically(path, obj["Body"].read())
                index[key] = {"etag": etag, "content_type": obj.get("ContentType", "binary/octet-stream")}
        for gone in set(old_index) - set(index):
            (folder / quote(gone, safe="")).unlink(missing_ok=True)
        _write_atomically(index_path, json.dumps(index).encode())

    def _save_queue(self, name: str) -> int:
        """Every message of the queue, in flight and delayed ones too, read without receiving them
        (a receive would hide them from the runtime, and cannot reach the ones it holds): the local
        emulator lists them (infra/local/moto_server.py)."""
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        account = urlsplit(url).path.strip("/").split("/")[0]
        listing = f"{self.sqs.meta.endpoint_url}/_local/sqs/{self.sqs.meta.region_name}/{account}/{name}"
        answer = requests.get(listing, timeout=30)
        answer.raise_for_status()
        lines = answer.content
        _write_atomically(self.folder / "queues" / f"{name}.jsonl", lines)
        return lines.count(b"\n")

    # -- restore ---------------------------------------------------------------------------------

    def restore(self) -> dict[str, int]:
        counts = {"items": 0, "objects": 0, "messages": 0}
        for path in sorted((self.folder / "tables").glob("*.jsonl")):
            items = [json.loads(line) for line in path.read_text().splitlines() if line]
            for start in range(0, len(items), 25):
                puts = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                self._batch_write(path.stem, puts)
            counts["items"] += len(items)
        for index_path in sorted((self.folder / "objects").glob("*.index.json")):
            bucket = index_path.name.removesuffix(".index.json")
            for key, meta in json.loads(index_path.read_text()).items():
                body = (self.folder / "objects" / bucket / quote(key, safe="")).read_bytes()
                self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=meta["content_type"])
                counts["objects"] += 1
        for path in sorted((self.folder / "queues").glob("*.jsonl")):
            url = self.sqs.get_queue_url(QueueName=path.stem)["QueueUrl"]
            for line in path.read_text().splitlines():
                message = json.loads(line)
                attributes = {
                    name: {k: v for k, v in value.items() if k in ("DataType", "StringValue")}
                    for name, value in message["attributes"].items()
                }
                self.sqs.send_message(QueueUrl=url, MessageBody=message["body"], MessageAttributes=attributes)
                counts["messages"] += 1
            path.unlink()  # delivered to the queue now; the next save writes the file again
        return counts

    def _batch_write(self, table: str, requests: list[dict[str, Any]]) -> None:
        pending = {table: requests}
        while pending:
            pending = self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
