"""Sealing secrets at rest (MercadoLibre tokens): envelope encryption with AES-256-GCM.

Each value gets a fresh data key. In AWS the data key comes from KMS (`TOKENS_KMS_KEY_ID`) and is
stored wrapped by KMS; locally it is wrapped with a key kept in the local state folder
(`TOKENS_LOCAL_KEY`, base64). Same interface, same format; the owner's id is bound as associated
data (and as the KMS encryption context), so a sealed token copied to another row does not open.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Protocol

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.config import MissingSetting, secret, value


class KeyWrapper(Protocol):
    name: str

    def new_data_key(self, context: str) -> tuple[bytes, bytes]: ...  # (plaintext, wrapped)

    def unwrap(self, wrapped: bytes, context: str) -> bytes: ...


class KmsKeys:
    name = "kms"

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self.kms = boto3.client("kms")

    def new_data_key(self, context: str) -> tuple[bytes, bytes]:
        answer = self.kms.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext={"owner": context}
        )
        return answer["Plaintext"], answer["CiphertextBlob"]

    def unwrap(self, wrapped: bytes, context: str) -> bytes:
        return bytes(
            self.kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"owner": context})["Plaintext"]
        )


class LocalKeys:
    """The same envelope, with the master key in the local state folder instead of KMS."""

    name = "local"

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the local master key must be 32 bytes")
        self.master = AESGCM(master_key)

    def new_data_key(self, context: str) -> tuple[bytes, bytes]:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        return key, nonce + self.master.encrypt(nonce, key, context.encode())

    def unwrap(self, wrapped: bytes, context: str) -> bytes:
        return self.master.decrypt(wrapped[:12], wrapped[12:], context.encode())


@lru_cache(maxsize=1)
def key_wrapper() -> KeyWrapper:
    key_id = value("TOKENS_KMS_KEY_ID")
    if key_id:
        return KmsKeys(key_id)
    try:
        return LocalKeys(base64.b64decode(secret("TOKENS_LOCAL_KEY")))
    except MissingSetting:
        raise MissingSetting(
            "TOKENS_KMS_KEY_ID", "set TOKENS_KMS_KEY_ID (AWS) or TOKENS_LOCAL_KEY (local) to store tokens"
        ) from None


def seal(plaintext: str, owner: str, keys: KeyWrapper | None = None) -> str:
    keys = keys or key_wrapper()
    data_key, wrapped = keys.new_data_key(owner)
    nonce = os.urandom(12)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext.encode(), owner.encode())
    envelope = {"v": 1, "k": keys.name, "wk": _b64(wrapped), "n": _b64(nonce), "c": _b64(sealed)}
    return json.dumps(envelope, separators=(",", ":"))


def unseal(envelope: str, owner: str, keys: KeyWrapper | None = None) -> str:
    keys = keys or key_wrapper()
    parts = json.loads(envelope)
    data_key = keys.unwrap(base64.b64decode(parts["wk"]), owner)
    plain = AESGCM(data_key).decrypt(
        base64.b64decode(parts["n"]), base64.b64decode(parts["c"]), owner.encode()
    )
    return plain.decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
