"""The media bucket: presigned forms and links, job manifests written once, whole-prefix deletes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import get_settings
from chalicelib.observability import logger
from chalicelib.store.aws import get_s3, session

UPLOAD_FORM_SECONDS = 15 * 60
DOWNLOAD_LINK_SECONDS = 15 * 60
_CHUNK_BYTES = 1024 * 1024


@lru_cache(maxsize=1)
def _signer() -> Any:
    # SigV4 for presigned POST policies and GET links (the default can still be SigV2 for POST).
    return session().client("s3", config=Config(signature_version="s3v4"))


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
    the list of photos) is signed once and gets the same link; every link has the same time."""

    def __init__(self, now: datetime | None = None) -> None:
        self._signed: dict[str, str] = {}
        self._now = now
        self._signer: Callable[[str], str] | None = None

    def __call__(self, key: str) -> str:
        if key not in self._signed:
            self._signed[key] = self._sign(key)
        return self._signed[key]

    def _sign(self, key: str) -> str:
        if self._signer is None:
            self._signer = _link_signer(_bucket(), self._now or datetime.now(UTC))
        return self._signer(key)


def _link_signer(bucket: str, now: datetime) -> Callable[[str], str]:
    """Our SigV4 signer for this time and the session's credentials as they are now; botocore's, link
    by link, where ours was not found to sign exactly as botocore does."""
    scope = _scope(bucket)
    credentials = session().get_credentials()
    if scope is None or credentials is None:
        return partial(_botocore_link, bucket)
    return _QuerySigner(scope, f"{now:%Y%m%dT%H%M%SZ}", credentials.get_frozen_credentials()).link


def _botocore_link(bucket: str, key: str) -> str:
    return str(
        _signer().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=DOWNLOAD_LINK_SECONDS
        )
    )


@dataclass(frozen=True)
class _Scope:
    """Where a bucket's links point (path style at an emulator, virtual-hosted at AWS) and the region
    and service they are signed for: botocore's decisions for this client."""

    origin: str  # scheme://host[:port]
    path: str  # the URL path before the key: "/bucket/" or "/"
    host: str  # the Host header as signed: lowercase, no default port
    region: str
    service: str


_SAMPLE_KEY = "sample.jpg"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=4)
def _scope(bucket: str) -> _Scope | None:
    """Learnt from one link botocore signs for `bucket`, once per process. Our signature of the same
    key at the same time with the same credentials must then be that very link; if it is not (another
    botocore, another endpoint), botocore signs every link, slower and never wrong, and the log says so."""
    sample = _botocore_link(bucket, _SAMPLE_KEY)
    url = urlsplit(sample)
    query = dict(parse_qsl(url.query))
    _, _, region, service, _ = query["X-Amz-Credential"].split("/")
    port = f":{url.port}" if url.port not in (None, _DEFAULT_PORTS.get(url.scheme)) else ""
    scope = _Scope(
        origin=f"{url.scheme}://{url.netloc}",
        path=url.path.removesuffix(_SAMPLE_KEY),
        host=f"{url.hostname}{port}",
        region=region,
        service=service,
    )
    credentials = session().get_credentials()
    if credentials is not None:
        ours = _QuerySigner(scope, query["X-Amz-Date"], credentials.get_frozen_credentials())
        if ours.link(_SAMPLE_KEY) == sample:
            return scope
    logger.warning("download links are signed by botocore, link by link", extra={"bucket": bucket})
    return None


class _QuerySigner:
    """S3's SigV4 query-string signing, as AWS documents it (docs.aws.amazon.com/AmazonS3/latest/API/
    sigv4-query-string-auth.html) and botocore does it, for one time and one set of credentials.

    botocore's presigner runs its whole request pipeline for each link (endpoint rules, serializers,
    event hooks): 0.34 ms a link on the development machine, and an answer carries up to 18. Here a
    link is one SHA-256 and one HMAC, 7 us; the signing key is derived once per answer.
    """

    def __init__(self, scope: _Scope, stamp: str, credentials: Any) -> None:
        self.scope = scope
        self.stamp = stamp
        self.credential_scope = f"{stamp[:8]}/{scope.region}/{scope.service}/aws4_request"
        params = {  # botocore's order in the URL; the canonical request sorts them
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{credentials.access_key}/{self.credential_scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(DOWNLOAD_LINK_SECONDS),
            "X-Amz-SignedHeaders": "host",
        }
        if credentials.token is not None:
            params["X-Amz-Security-Token"] = credentials.token  # Lambda's role credentials have one
        encoded = {name: quote(value, safe="-_.~") for name, value in params.items()}
        self.query = "&".join(f"{name}={value}" for name, value in encoded.items())
        self.canonical_query = "&".join(f"{name}={encoded[name]}" for name in sorted(encoded))
        signing_key = f"AWS4{credentials.secret_key}".encode()
        for part in (stamp[:8], scope.region, scope.service, "aws4_request"):
            signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
        self.signing_key = signing_key

    def link(self, key: str) -> str:
        path = self.scope.path + quote(key, safe="/~")
        canonical = f"GET\n{path}\n{self.canonical_query}\nhost:{self.scope.host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{self.stamp}\n{self.credential_scope}\n{digest}"
        signature = hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self.scope.origin}{path}?{self.query}&X-Amz-Signature={signature}"


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
    return bytes(_get(key, etag)["Body"].read())


def read_hashed(key: str, etag: str) -> tuple[bytes, str]:
    """The object's bytes, only if it still is `etag`, and their SHA-256 computed as they arrive."""
    digest, data = hashlib.sha256(), bytearray()
    for chunk in _get(key, etag)["Body"].iter_chunks(_CHUNK_BYTES):
        digest.update(chunk)
        data += chunk
    return bytes(data), digest.hexdigest()


def _get(key: str, etag: str | None) -> Any:
    """S3's GetObject answer (with `etag`: only if the object still is that one, else ObjectChanged)."""
    extra = {"IfMatch": etag} if etag else {}
    try:
        return get_s3().get_object(Bucket=_bucket(), Key=key, **extra)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "412"):
            raise ObjectChanged(key) from None
        raise


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
