"""What S3 checks on a browser upload (POST Object with a SigV4 POST policy), which moto does not.

moto stores whatever a form posts: an expired policy, a forged signature, another key, another
content type, a 100-byte file against `["content-length-range", 1, 10]`. The local emulator runs
these checks first (infra/local/moto_server.py), so the upload limits the API signs are held locally
as S3 holds them in AWS. The rules, from S3's "POST Policy" and "Authenticating requests in
browser-based uploads (SigV4)" pages, with the answers S3 is recorded giving:

- the form carries `policy`, `x-amz-algorithm` (AWS4-HMAC-SHA256), `x-amz-credential`,
  `x-amz-date` and `x-amz-signature`; without a policy the request is anonymous and a private
  bucket refuses it (403 AccessDenied);
- the signature is hex(HMAC-SHA256(signing key of the credential's date/region/s3, policy as sent)),
  checked before the policy is read (403 SignatureDoesNotMatch; an unknown key, 403
  InvalidAccessKeyId);
- the policy is base64 JSON with `expiration` (ISO 8601, UTC) and `conditions`; past its expiration
  it is refused (403 AccessDenied "Invalid according to Policy: Policy expired.");
- conditions: `{"field": "value"}` or `["eq", "$field", "value"]` (exact), `["starts-with",
  "$field", "prefix"]` (a Content-Type list must match item by item), `["content-length-range",
  min, max]` (inclusive); field names are case-insensitive, values case-sensitive; a condition on an
  absent field fails (403 "Policy Condition failed: [...]");
- every form field except `x-amz-signature`, `file`, `policy` and `x-ignore-*` must be named by a
  condition (403 "Extra input fields: <name>");
- a file outside the range is 400 EntityTooLarge / EntityTooSmall with ProposedSize and the limit.

Not modelled (the app uses none of them): SigV2 forms (refused, saying so), `${filename}` in a field
(refused, saying so), fields placed after the file part, session tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
NEVER_COVERED = {"x-amz-signature", "file", "policy"}


@dataclass(frozen=True)
class Refusal:
    """An S3 error answer: status, code, message and the extra elements S3 adds."""

    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A posted form as S3 reads it: field names lowercased, the file's size apart."""

    bucket: str
    fields: dict[str, str]
    file_size: int


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(policy_b64: str, secret: str, date: str, region: str) -> str:
    return hmac.new(signing_key(secret, date, region), policy_b64.encode(), hashlib.sha256).hexdigest()


def check(upload: Upload, secrets: dict[str, str], now: datetime) -> Refusal | None:
    """None when S3 would store this upload; else the Refusal S3 answers. `secrets`: access key id
    -> secret access key of the credentials the emulator knows."""
    fields = upload.fields
    if "key" not in fields:
        return _missing("key")
    if "policy" not in fields:
        return Refusal(403, "AccessDenied", "Access Denied")  # anonymous, and the bucket is private
    if "awsaccesskeyid" in fields or "signature" in fields:
        return Refusal(
            400, "InvalidRequest", f"the local emulator checks SigV4 POST policies only ({ALGORITHM})"
        )
    for name in SIGNED_FIELDS:
        if name not in fields:
            return _missing(name)
    if "${filename}" in "".join(fields.values()):
        return Refusal(501, "NotImplemented", "the local emulator does not expand ${filename}")
    refused = _check_signature(fields, secrets)
    if refused:
        return refused
    policy = _read_policy(fields["policy"])
    if isinstance(policy, Refusal):
        return policy
    expiration, conditions = policy
    if now >= expiration:
        return _invalid("Policy expired.")
    return _check_conditions(upload, conditions)


def _missing(name: str) -> Refusal:
    return Refusal(
        400,
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order "
        "of the fields.",
        {"ArgumentName": name, "ArgumentValue": ""},
    )


def _invalid(reason: str) -> Refusal:
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _check_signature(fields: dict[str, str], secrets: dict[str, str]) -> Refusal | None:
    if fields["x-amz-algorithm"] != ALGORITHM:
        return Refusal(400, "InvalidRequest", f"x-amz-algorithm must be {ALGORITHM}")
    parts = fields["x-amz-credential"].split("/")
    if len(parts) != 5 or parts[3:] != ["s3", "aws4_request"]:
        return Refusal(
            400,
            "AuthorizationQueryParametersError",
            "x-amz-credential must be <access key id>/<yyyymmdd>/<region>/s3/aws4_request",
        )
    access_key, date, region = parts[:3]
    secret = secrets.get(access_key)
    if secret is None:
        return Refusal(
            403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        )
    expected = sign(fields["policy"], secret, date, region)
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        return Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your "
            "key and signing method.",
            {"StringToSign": fields["policy"]},
        )
    return None


def _read_policy(policy_b64: str) -> tuple[datetime, list[Any]] | Refusal:
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if not isinstance(policy, dict):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    expiration = policy.get("expiration")
    conditions = policy.get("conditions")
    if not isinstance(expiration, str):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
    try:
        # UTC only ("2007-12-01T12:00:00.000Z"); an offset or a space for the T is refused, as S3 does.
        if not expiration.endswith("Z") or "T" not in expiration:
            raise ValueError(expiration)
        moment = datetime.fromisoformat(expiration.removesuffix("Z")).replace(tzinfo=UTC)
    except ValueError:
        return Refusal(
            400, "InvalidPolicyDocument", f"Invalid Policy: Invalid 'expiration' value: '{expiration}'"
        )
    if not isinstance(conditions, list):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    return moment, conditions


def _check_conditions(upload: Upload, conditions: list[Any]) -> Refusal | None:
    values = {**upload.fields, "bucket": upload.bucket}
    covered: set[str] = set()
    size_range: tuple[int, int] | None = None
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                return _simple_condition("Simple-Conditions must have exactly one property specified.")
            [(name, expected)] = condition.items()
            if not isinstance(expected, str):
                return _simple_condition("value must be a string.")
            condition = ["eq", f"${name}", expected]
        if not isinstance(condition, list) or not condition:
            return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            size_range = _range(condition)
            if size_range is None:
                return _invalid(f"Policy Condition failed: {_shown(condition)}")
            continue
        if len(condition) != 3 or operator not in ("eq", "starts-with"):
            return _invalid(f"Policy Condition failed: {_shown(condition)}")
        name = str(condition[1]).removeprefix("$").lower()
        covered.add(name)
        if not _holds(operator, values.get(name), str(condition[2]), content_type=name == "content-type"):
            return _invalid(f"Policy Condition failed: {_shown(condition)}")
    extra = [
        name
        for name in upload.fields
        if name not in covered and name not in NEVER_COVERED and not name.startswith("x-ignore-")
    ]
    if extra:
        return _invalid(f"Extra input fields: {extra[0]}")
    if size_range is not None:
        low, high = size_range
        size = str(upload.file_size)
        if upload.file_size > high:
            return Refusal(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                {"ProposedSize": size, "MaxSizeAllowed": str(high)},
            )
        if upload.file_size < low:
            return Refusal(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                {"ProposedSize": size, "MinSizeAllowed": str(low)},
            )
    return None


def _holds(operator: str, value: str | None, expected: str, content_type: bool) -> bool:
    if value is None:
        return False  # a condition on a field the form lacks fails, even starts-with ""
    if operator == "eq":
        return value == expected
    # A Content-Type list ("image/jpeg,image/png") passes starts-with only if every item does.
    items = value.split(",") if content_type else [value]
    return all(item.strip().startswith(expected) for item in items)


def _range(condition: list[Any]) -> tuple[int, int] | None:
    if len(condition) != 3:
        return None
    try:
        low, high = int(condition[1]), int(condition[2])  # S3 takes "5" as well as 5
    except (TypeError, ValueError):
        return None
    return low, high


def _simple_condition(reason: str) -> Refusal:
    return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Simple-Condition: {reason}")


def _shown(condition: list[Any]) -> str:
    return json.dumps(condition)
