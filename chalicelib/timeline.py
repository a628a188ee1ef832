"""The product's timeline: what happened, in words a seller understands, with a code to translate."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib import clock
from chalicelib.api.schemas import EventOut
from chalicelib.storage.models import ProductEvent


def record(
    product_id: str,
    stage: str,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    percent: int | None = None,
) -> None:
    at = f"{clock.now().isoformat(timespec='microseconds')}#{secrets.token_hex(3)}"
    ProductEvent(
        product_id=product_id,
        at=at,
        stage=stage,
        code=code,
        message=message,
        params=params or {},
        percent=percent,
    ).save()


def events_of(product_id: str, after: str | None = None, limit: int = 100) -> list[EventOut]:
    condition = ProductEvent.at > after if after else None
    rows = ProductEvent.query(product_id, condition, limit=limit)
    return [
        EventOut(
            at=row.at,
            stage=row.stage,
            code=row.code,
            message=row.message,
            params=row.params or {},
            percent=None if row.percent is None else int(row.percent),
        )
        for row in rows
    ]


def forget(product_id: str) -> None:
    with ProductEvent.batch_write() as batch:
        for row in ProductEvent.query(product_id):
            batch.delete(row)
