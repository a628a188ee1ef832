"""In AWS the JWT secret comes from SSM Parameter Store (encrypted), never from the code or config."""

from __future__ import annotations

import boto3
import pytest

from chalicelib.auth.tokens import issue_access_token, verify_access_token
from chalicelib.config import MissingSetting, secret


def test_the_secret_is_read_from_an_encrypted_parameter(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    value = "p" * 48
    boto3.client("ssm").put_parameter(
        Name="/intellipost/test/jwt-secret", Value=value, Type="SecureString", Overwrite=True
    )
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("JWT_SECRET_PARAMETER", "/intellipost/test/jwt-secret")
    assert secret("JWT_SECRET") == value
    assert verify_access_token(issue_access_token("user-1", "session-1")) == "user-1"


def test_a_missing_secret_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.delenv("JWT_SECRET_PARAMETER", raising=False)
    with pytest.raises(MissingSetting, match="JWT_SECRET or JWT_SECRET_PARAMETER"):
        secret("JWT_SECRET")
