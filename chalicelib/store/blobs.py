"""The media bucket: presigned forms and links, job manifests written once, whole-prefix deletes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.store.aws import get_s3

UPLOAD_FORM_SECONDS = 15 * 60
DOWNLOAD_LINK_SECONDS = 15 * 60


@lru_cache(maxsize=1)
def _signer() -> Any:
    # SigV4 for presigned POST policies and GET links (the default can still be SigV2 for POST).
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _bucket() -> str:
    return get_settings().media_bucket


def upload_form(key: str, content_type: str, max_bytes: int, now: datetime) -> dict[str, Any]:
    """A presigned POST that only accepts this key, this content type and at most `max_bytes`."""
    form = _signer().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=UPLOAD_FORM_SECONDS,
    )
    return {
        "url": form["url"],
        "fields": form["fields"],
        "expires_at": now + timedelta(seconds=UPLOAD_FORM_SECONDS),
    }


class Links:
    """Short-lived GET links for one answer. A key asked for twice (the main picture's photo is also in
    the list of photos) is signed once and gets the same link."""

    def __init__(self) -> None:
        self._signed: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        if key not in self._signed:
            self._signed[key] = self._sign(key)
        return self._signed[key]

    def _sign(self, key: str) -> str:
        return str(
            _signer().generate_presigned_url(
                "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=DOWNLOAD_LINK_SECONDS
            )
        )


@dataclass(frozen=True)
class Head:
    size: int
    etag: str


def head(key: str) -> Head | None:
    """The object's size and ETag, or None when it is gone (404, or 403 without list rights)."""
    try:
        answer = get_s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "403", "NoSuchKey", "NotFound"):
            return None
        raise
    return Head(int(answer["ContentLength"]), str(answer["ETag"]))


class ObjectChanged(Exception):
    """The object's bytes are no longer the ones asked for (another upload replaced them)."""


def read(key: str, etag: str | None = None) -> bytes:
    """The object's bytes; with `etag`, exactly those bytes or ObjectChanged (S3's If-Match)."""
    return read_tagged(key, etag)[0]


def read_tagged(key: str, etag: str | None = None) -> tuple[bytes, str]:
    """The object's bytes and their ETag (with `etag`: only if it still is that one)."""
    extra = {"IfMatch": etag} if etag else {}
    try:
        answer = get_s3().get_object(Bucket=_bucket(), Key=key, **extra)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "412"):
            raise ObjectChanged(key) from None
        raise
    return bytes(answer["Body"].read()), str(answer["ETag"])


def write(key: str, data: bytes, content_type: str) -> None:
    get_s3().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def delete(key: str) -> None:
    get_s3().delete_object(Bucket=_bucket(), Key=key)


def write_json_once(key: str, document: dict[str, Any]) -> bool:
    """Create `key` only if it does not exist (S3 conditional write): True when this call created it.

    A job manifest triggers the next function, so it must be created exactly once even when two
    deliveries race to write it.
    """
    try:
        get_s3().put_object(
            Bucket=_bucket(),
            Key=key,
            Body=json.dumps(document, sort_keys=True).encode(),
            ContentType="application/json",
            IfNoneMatch="*",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            return False
        raise
    return True


def delete_prefixes(prefixes: list[str]) -> int:
    s3 = get_s3()
    deleted = 0
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=_bucket(), Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    return deleted
