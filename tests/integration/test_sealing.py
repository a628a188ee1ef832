"""MercadoLibre tokens at rest: envelope encryption, with KMS in AWS and a local key otherwise."""

from __future__ import annotations

import base64
import json
import os

import boto3
import pytest
from cryptography.exceptions import InvalidTag

from chalicelib.auth.sealing import KmsKeys, LocalKeys, seal, unseal


@pytest.fixture(params=["local", "kms"])
def keys(request: pytest.FixtureRequest, aws: str) -> KmsKeys | LocalKeys:
    if request.param == "local":
        return LocalKeys(os.urandom(32))
    key_id = boto3.client("kms").create_key(Description="tokens")["KeyMetadata"]["KeyId"]
    return KmsKeys(key_id)


def test_a_sealed_token_opens_only_for_its_owner(keys: KmsKeys | LocalKeys) -> None:
    token = "APP_USR-123456-090515-8cc4448aac10d5105474e1351-1234567"
    sealed = seal(token, "user-1", keys)
    assert token not in sealed and "APP_USR" not in sealed
    assert json.loads(sealed)["k"] == keys.name
    assert unseal(sealed, "user-1", keys) == token
    with pytest.raises(Exception):  # noqa: B017 - InvalidTag locally, InvalidCiphertextException from KMS
        unseal(sealed, "user-2", keys)


def test_each_seal_uses_a_fresh_data_key(keys: KmsKeys | LocalKeys) -> None:
    first, second = json.loads(seal("same", "u", keys)), json.loads(seal("same", "u", keys))
    assert first["wk"] != second["wk"] and first["c"] != second["c"]


def test_a_tampered_envelope_is_refused() -> None:
    keys = LocalKeys(os.urandom(32))
    envelope = json.loads(seal("secret-token", "u", keys))
    cipher = bytearray(base64.b64decode(envelope["c"]))
    cipher[0] ^= 1
    envelope["c"] = base64.b64encode(bytes(cipher)).decode()
    with pytest.raises(InvalidTag):
        unseal(json.dumps(envelope), "u", keys)
