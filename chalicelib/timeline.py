"""The product's timeline: what happened, in words a seller understands, with a code to translate."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib import clock, store
from chalicelib.domain.records import Event


def record(
    product_id: str,
    stage: str,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    percent: int | None = None,
) -> None:
    at = f"{clock.now().isoformat(timespec='microseconds')}#{secrets.token_hex(3)}"
    store.events.add(product_id, Event(at, stage, code, message, params or {}, percent))


def events_of(product_id: str, after: str | None = None) -> list[Event]:
    return store.events.of(product_id, after)
