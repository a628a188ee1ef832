"""Time and new ids: the impure inputs of the domain, in one place so tests can move the clock."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from chalicelib.domain.ids import sortable_id


def epoch() -> float:
    return time.time()


def now() -> datetime:
    return datetime.fromtimestamp(epoch(), tz=UTC)


def new_id() -> str:
    return sortable_id(int(epoch() * 1000), os.urandom(10))


def at(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
