"""Hostile files through the real upload path: presigned POST to the emulator's S3, the S3 event, the
event runtime, the ingest function, then the API.

Each file gets a clear rejection on its photo (a stable code and a message naming the limit), or is
accepted where the rules say it is a real photo (odd EXIF, a JPEG with an archive appended: the
original is only ever served as image/jpeg and every listing picture is re-encoded from its pixels).
None may cause a 5xx, a handler failure (a retry or dead-letter loop) or a product left waiting.

The empty file and the file larger than declared are refused by S3 itself (the POST policy's
`content-length-range`, which the local emulator enforces as S3 does); their bytes are then put
directly, as a loosened policy would let them in, to prove ingest's own check still stands.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from tests.photos import crafted_png, encode
from tests.waiting import wait_for

pytestmark = pytest.mark.security

# A photo that passes every rule, small and fast: a gradient at the minimum size and a bit more.
SIZE = (1024, 768)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) says width x height; the scan data stays the small one."""
    data = bytearray(encode((64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """Splice an APP1 (EXIF) segment right after the JPEG's start marker."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def huge_exif() -> bytes:
    """An EXIF block at the 64 KB segment limit: 5000 IFD entries, each pointing far past the end."""
    entries = b"".join(struct.pack("<HHII", 0x9000 + n, 2, 0xFFFFFFF0, 0x7FFFFFF0) for n in range(5000))
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 5000) + entries + b"\x00\x00\x00\x00"
    return with_app1(encode(SIZE), b"Exif\x00\x00" + tiff[: 65533 - 8])


def garbled_exif() -> bytes:
    return with_app1(encode(SIZE), b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + random.Random(9).randbytes(2000))


def zip_of(name: str, text: str) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, text)
    return archive.getvalue()


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    expect: str  # the rejection code the seller sees, or "accepted"
    declared: int | None = None  # the size the upload declared, when it lies
    content_type: str = "image/jpeg"
    s3_refuses: str | None = None  # the error S3 answers the upload form with, if any


def corpus() -> list[Hostile]:
    jpeg = encode(SIZE)
    # 12000x12000 1-bit: 144 MP from ~18 KB of zlib; decoding it would allocate ~144 MB.
    bomb_rows = (b"\x00" + bytes(12000 // 8)) * 12000
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    return [
        Hostile("zero-bytes.jpg", b"", "IMAGE_EMPTY", declared=1000, s3_refuses="EntityTooSmall"),
        Hostile("truncated.jpg", jpeg[: len(jpeg) // 2], "IMAGE_CORRUPT"),
        Hostile(
            "bomb.png",
            crafted_png(12000, 12000, 1, zlib.compress(bomb_rows, 9)),
            "IMAGE_TOO_MANY_PIXELS",
            content_type="image/png",
        ),
        Hostile("header-30000x30000.jpg", jpeg_claiming(30000, 30000), "IMAGE_TOO_MANY_PIXELS"),
        Hostile("jpeg-magic-html.jpg", b"\xff\xd8\xff\xe0" + html, "IMAGE_CORRUPT"),
        Hostile("gif-with-jpeg-inside.jpg", b"GIF89a" + jpeg, "IMAGE_FORMAT_UNSUPPORTED"),
        Hostile("pdf-with-jpeg-inside.jpg", b"%PDF-1.7\n" + jpeg, "IMAGE_FORMAT_UNSUPPORTED"),
        Hostile(
            "drawing.svg.jpg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "IMAGE_FORMAT_UNSUPPORTED",
        ),
        Hostile(
            "iphone.heic.jpg",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + random.Random(1).randbytes(4000),
            "IMAGE_FORMAT_UNSUPPORTED",
        ),
        Hostile("animation.gif.jpg", encode(SIZE, "GIF"), "IMAGE_FORMAT_UNSUPPORTED"),
        Hostile("photo.webp.jpg", encode(SIZE, "WEBP"), "IMAGE_FORMAT_UNSUPPORTED"),
        Hostile("print.cmyk.jpg", encode(SIZE, mode="CMYK"), "IMAGE_COLOUR_MODE"),
        Hostile("scan-16bit.png", encode(SIZE, "PNG", "I;16"), "IMAGE_COLOUR_MODE", content_type="image/png"),
        Hostile(
            "larger-than-declared.jpg",
            jpeg,
            "IMAGE_LARGER_THAN_DECLARED",
            declared=len(jpeg) - 100,
            s3_refuses="EntityTooLarge",
        ),
        # Real photos with hostile extras: accepted, as the rules intend.
        Hostile("huge-exif.jpg", huge_exif(), "accepted"),
        Hostile("garbled-exif.jpg", garbled_exif(), "accepted"),
        Hostile("jpeg-plus-zip.jpg", jpeg + zip_of("run.sh", "rm -rf /"), "accepted"),
    ]


def _upload(form: dict[str, Any], item: Hostile) -> requests.Response:
    return requests.post(form["url"], data=form["fields"], files={"file": (item.name, item.data)}, timeout=30)


def _dead_letters(prefix: str) -> list[str]:
    """Bodies in any dead-letter queue that mention `prefix` (peeked, left in place)."""
    sqs = boto3.client("sqs")
    found = []
    for url in sqs.list_queues().get("QueueUrls", []):
        if not url.endswith("-dlq"):
            continue
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        ):
            if prefix in message["Body"]:
                found.append(message["Body"])
    return found


@pytest.fixture
def hostile_seller(api: Any, events_running: None) -> Iterator[Any]:
    yield api.seller()


def _batches(items: list[Hostile], size: int = 8) -> list[list[Hostile]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


def test_hostile_files_are_refused_clearly_and_nothing_gets_stuck(hostile_seller: Any) -> None:
    seller = hostile_seller
    rejected = [item for item in corpus() if item.expect != "accepted"]
    accepted = [item for item in corpus() if item.expect == "accepted"]
    products: list[tuple[str, list[Hostile]]] = []
    started = time.monotonic()
    for batch, pause in [*((b, False) for b in _batches(rejected)), (accepted, True)]:
        declared = [
            {"file_name": i.name, "content_type": i.content_type, "size": i.declared or max(1, len(i.data))}
            for i in batch
        ]
        created = seller.call("POST", "/products", {"prompt": "archivos hostiles", "images": declared})
        assert created.status_code == 201, created.json
        product = created.json
        if pause:
            # The accepted files would start the whole pipeline; holding it keeps this test about intake.
            assert seller.call("PUT", f"/products/{product['product_id']}/pause").status_code == 200
        for image, item in zip(product["images"], batch, strict=True):
            sent = _upload(image["upload"], item)
            if item.s3_refuses:
                assert sent.status_code == 400 and f"<Code>{item.s3_refuses}</Code>" in sent.text, item.name
                # As if the policy were loosened: the bytes reach the bucket, and ingest judges them.
                key = image["upload"]["fields"]["key"]
                boto3.client("s3").put_object(
                    Bucket=_bucket(), Key=key, Body=item.data, ContentType=item.content_type
                )
            else:
                assert sent.status_code < 500, (item.name, sent.status_code, sent.text)
        products.append((product["product_id"], batch))

    seen: dict[str, dict[str, Any]] = {}
    for product_id, batch in products:
        all_rejected = all(item.expect != "accepted" for item in batch)

        def judged(product_id: str = product_id, all_rejected: bool = all_rejected) -> dict[str, Any] | None:
            got = seller.call("GET", f"/products/{product_id}")
            assert got.status_code == 200, got.json
            images = got.json["images"]
            # The product's own verdict is written just after its last photo's.
            done = all(i["status"] != "declared" for i in images)
            return got.json if done and (got.json["attention"] or not all_rejected) else None

        product = wait_for(judged, 60, f"every photo of {product_id} to be judged")
        assert isinstance(product, dict)
        for image, item in zip(product["images"], batch, strict=True):
            seen[item.name] = image
            if item.expect == "accepted":
                assert image["status"] == "accepted", (item.name, image)
            else:
                assert image["status"] == "rejected", (item.name, image)
                assert image["rejection"]["code"] == item.expect, (item.name, image["rejection"])
                assert image["rejection"]["message"], item.name
        if all_rejected:
            # Not stuck: failed, saying what to do next.
            assert product["status"] == "failed"
            assert product["attention"]["code"] == "ALL_PHOTOS_REJECTED"
        else:
            assert product["status"] == "uploading" and product["paused"] is True
    elapsed = time.monotonic() - started

    # No handler failed on any of them: nothing retried into a dead-letter queue.
    for product_id, _ in products:
        assert _dead_letters(product_id) == []
    # A rejected photo is deleted from the bucket; the product and the API still answer.
    s3 = boto3.client("s3")
    for product_id, _ in products:
        listed = s3.list_objects_v2(Bucket=_bucket(), Prefix=f"uploads/{seller.user_id}/{product_id}/")
        kept = {obj["Key"].rsplit("/", 1)[-1].split(".")[0] for obj in listed.get("Contents", [])}
        for name, image in seen.items():
            if image["status"] == "rejected":
                assert image["image_id"] not in kept, name
    assert seller.call("GET", "/products").status_code == 200
    for product_id, _ in products:
        assert seller.call("DELETE", f"/products/{product_id}").status_code == 204
    print(f"\n{len(seen)} hostile files judged through the upload path in {elapsed:.1f} s")
    for name, image in seen.items():
        outcome = image["rejection"]["code"] if image["rejection"] else image["status"]
        print(f"  {name:28} {outcome}")


def _bucket() -> str:
    import os

    return os.environ["MEDIA_BUCKET"]
