"""The photo links the API signs itself (chalicelib/store/blobs.py) are botocore's links, character
for character: at the emulator and at AWS, in two regions, with and without a session token (Lambda's
role credentials carry one), for keys with every character that needs encoding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.store import aws, blobs

AT = datetime(2026, 12, 3, 23, 59, 58, tzinfo=UTC)
KEYS = [
    "uploads/01M8YEG8J533TKHJS9587X8Y67/01M8YEG8TJ5761JXVV5ZXYJCNT/01M8YEG8TJ5761JXVV5ZXYJCNV.jpg",
    "processed/u/p/main/1-thumb.jpg",
    "fotos/año ñandú 100%.jpg",
    "a+b=c&d?e#f;g,h:i@j$k!l'm(n)o*p~q",
    "double//slash/./dot/../up",
    "sample.jpg",
]
PLACES = {
    "the emulator": {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_DEFAULT_REGION": "us-east-1"},
    "an https endpoint on its default port": {
        "AWS_ENDPOINT_URL": "https://s3.localhost.localstack.cloud:443",
        "AWS_DEFAULT_REGION": "us-east-1",
    },
    "AWS, us-east-1": {"AWS_ENDPOINT_URL": None, "AWS_DEFAULT_REGION": "us-east-1"},
    "AWS, sa-east-1": {"AWS_ENDPOINT_URL": None, "AWS_DEFAULT_REGION": "sa-east-1"},
}


def _forget() -> None:
    for cached in (aws.session, blobs._signer, blobs._scope, get_settings):
        cached.cache_clear()


@pytest.fixture
def place(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment of one place (and a session token, or none), botocore's clock stopped at AT."""
    where, token = request.param
    for name, value in {**PLACES[where], "AWS_SESSION_TOKEN": token}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: AT.replace(tzinfo=None))
    _forget()
    yield where
    _forget()


def botocore_link(key: str) -> str:
    return str(
        blobs._signer().generate_presigned_url(
            "get_object",
            Params={"Bucket": get_settings().media_bucket, "Key": key},
            ExpiresIn=blobs.DOWNLOAD_LINK_SECONDS,
        )
    )


@pytest.mark.parametrize(
    "place",
    [(where, token) for where in PLACES for token in (None, "IQoJb3JpZ2luX2VjE/a+b=session")],
    indirect=True,
    ids=lambda param: f"{param[0]}, {'a session token' if param[1] else 'no token'}",
)
def test_links_are_botocores_links(place: str) -> None:
    links = blobs.Links(now=AT)
    for key in KEYS:
        assert links(key) == botocore_link(key), key
    assert blobs._scope(get_settings().media_bucket) is not None  # signed here, not by botocore


@pytest.mark.parametrize("place", [("the emulator", None)], indirect=True)
def test_where_our_signature_is_not_botocores_botocore_signs_every_link(
    place: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong: Any = lambda self, key: "not the link botocore signs"  # noqa: E731
    monkeypatch.setattr(blobs._QuerySigner, "link", wrong)
    links = blobs.Links(now=AT)
    assert [links(key) for key in KEYS] == [botocore_link(key) for key in KEYS]
    assert blobs._scope(get_settings().media_bucket) is None
