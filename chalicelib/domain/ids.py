"""Sortable ids (ULID layout): 48 bits of milliseconds then 80 random bits, Crockford base32.

Newest-first listings are then a plain reverse sort on the id. Time and randomness come in as
arguments so the domain stays pure.
"""

from __future__ import annotations

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sortable_id(epoch_ms: int, random_bytes: bytes) -> str:
    if len(random_bytes) != 10:
        raise ValueError("a sortable id needs exactly 10 random bytes")
    if not 0 <= epoch_ms < 2**48:
        raise ValueError("time out of range for a sortable id")
    value = (epoch_ms << 80) | int.from_bytes(random_bytes, "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
