"""MercadoLibre's categories for the panel and the listing writer, cached for a day in DynamoDB.

Category trees and attribute definitions change rarely and every listing asks for them: one call
per day and category instead of one per listing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalicelib import clock, store
from chalicelib.domain.errors import NotFound, Upstream
from chalicelib.domain.search import fold
from chalicelib.marketplace.mercadolibre import MercadoLibreError, get_mercadolibre

CACHE_SECONDS = 24 * 3600
_CATEGORY_ID = re.compile(r"[A-Z]{3}\d{1,12}")


def _cached(key: str, load: Callable[[], Any]) -> Any:
    cached = store.cache.get(key, clock.epoch())
    if cached is not None:
        return cached
    try:
        value = load()
    except MercadoLibreError as error:
        if error.status == 404:
            raise NotFound("CATEGORY_NOT_FOUND", "MercadoLibre has no such category") from None
        raise Upstream("MERCADOLIBRE_UNAVAILABLE", f"MercadoLibre did not answer: {error.message}") from None
    store.cache.put(key, value, int(clock.epoch()) + CACHE_SECONDS)
    return value


def predict_categories(site: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
    return list(
        _cached(
            f"predict:{site}:{limit}:{fold(query)}",
            lambda: get_mercadolibre().predict_category(site, query, limit),
        )
    )


def category(category_id: str) -> dict[str, Any]:
    _check(category_id)
    return dict(_cached(f"category:{category_id}", lambda: get_mercadolibre().category(category_id)))


def category_attributes(category_id: str) -> list[dict[str, Any]]:
    _check(category_id)
    return list(
        _cached(f"attributes:{category_id}", lambda: get_mercadolibre().category_attributes(category_id))
    )


def _check(category_id: str) -> None:
    if not _CATEGORY_ID.fullmatch(category_id):
        raise NotFound("CATEGORY_NOT_FOUND", "no such category", {"category_id": category_id})
