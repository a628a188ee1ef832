"""Each provider failing on the local stack, then recovering: PhotoRoom 500 and 402, Gemini 429, a
timeout and an answer that is not JSON, MercadoLibre 429, 500 (after the item exists), an expired
token and a connection dropped right after the item was created. The production adapters run
against loopback servers that speak each provider's wire format (`ProviderDouble`; the MercadoLibre
sandbox's scripted answers). For each: the product shows the right
thing (the fallback on the main picture, or `failed` with the cause's code), the seller's retry (or
nothing, where the adapter copes alone) brings it to published, with one MercadoLibre item, one
listing version per revision and nothing lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.chaos.harness import (
    PHOTOS,
    QUEUE_PREFIX,
    ChaosRuntime,
    ProviderDouble,
    audit,
    dead_letters,
    scenario,
    sell,
    timeline_codes,
    wait_status,
)
from tests.runtime import running
from tests.selling import approve


@dataclass(frozen=True)
class Fault:
    name: str
    provider: str  # photoroom | gemini | mercadolibre
    shows: str  # the fallback's cause, or the failed product's code ("" when nothing shows)
    mode: str = ""  # ProviderDouble's mode
    answers: tuple[dict[str, Any], ...] = ()  # the sandbox's scripted answers (/_sandbox/faults)

    def __str__(self) -> str:
        return self.name


FAULTS = [
    Fault("photoroom-500", "photoroom", "PHOTOROOM_UNAVAILABLE", mode="500"),
    Fault("photoroom-402", "photoroom", "PHOTOROOM_CREDITS_EXHAUSTED", mode="402"),
    Fault("gemini-429", "gemini", "GEMINI_RATE_LIMITED", mode="429"),
    Fault("gemini-timeout", "gemini", "GEMINI_TIMEOUT", mode="timeout"),
    Fault("gemini-invalid-json", "gemini", "GEMINI_INVALID_ANSWER", mode="invalid-json"),
    Fault(
        "mercadolibre-429",
        "mercadolibre",
        "MERCADOLIBRE_UNAVAILABLE",
        answers=({"path": "/*", "status": 429},),
    ),
    # The item is created, then every call on it fails: the retry must finish it, not list another.
    Fault(
        "mercadolibre-500",
        "mercadolibre",
        "MERCADOLIBRE_UNAVAILABLE",
        answers=({"path": "/items/MLA*", "status": 500},),
    ),
    Fault("mercadolibre-expired-token", "mercadolibre", ""),  # refreshed by the adapter, nothing shows
    # The item is created and the answer never comes (the connection dropped): outcome unknown, so
    # the publisher looks the SKU up before anything else, finds the item and finishes it.
    Fault(
        "mercadolibre-dropped-after-create",
        "mercadolibre",
        "",
        answers=({"method": "POST", "path": "/items", "drop": "after", "times": 1},),
    ),
]


def _app() -> Any:
    from app import app

    return app


def run_fault(
    fault: Fault, seller: Any, sandbox: Any, double: ProviderDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One fault from injection to published; its row in the chaos report."""
    if fault.provider == "photoroom":
        monkeypatch.setenv("PHOTOROOM_API_KEY", "chaos-photoroom-key")
        monkeypatch.setenv("PHOTOROOM_BASE_URL", double.url)
    if fault.provider == "gemini":
        monkeypatch.setenv("GEMINI_API_KEY", "chaos-gemini-key")
        monkeypatch.setenv("GEMINI_BASE_URL", double.url)
        monkeypatch.setenv("GEMINI_TIMEOUT_MS", "1000")
        monkeypatch.setenv("GEMINI_RETRY_ATTEMPTS", "2")
        monkeypatch.setenv("GEMINI_RETRY_INITIAL_DELAY", "0.05")
        monkeypatch.setenv("GEMINI_RETRY_MAX_DELAY", "0.1")
    double.mode, double.calls = fault.mode or "ok", {}
    with scenario(f"provider fault: {fault.name}") as row:
        runtime = ChaosRuntime(_app(), QUEUE_PREFIX, wait_seconds=1, backoff_base=1)
        with running(runtime):
            product_id = sell(seller, PHOTOS[:1])
            row.products, row.faults = 1, 1
            if fault.provider == "photoroom":
                shown = _photoroom_recovers(fault, seller, product_id, double)
            elif fault.provider == "gemini":
                shown = _gemini_recovers(fault, seller, product_id, double)
            else:
                shown = _mercadolibre_recovers(fault, seller, sandbox, product_id)
            done = wait_status(seller, product_id, "published", 120)
        calls = ", ".join(f"{n} {k}" for k, n in sorted(double.calls.items()))
        row.notes.append(f"{shown}{f'; calls to the double: {calls}' if calls else ''}")
        assert runtime.failures == []  # every failure was the product's, none a crashed handler
        assert dead_letters(runtime, product_id) == []
        assert sandbox.items(seller, product_id) == [done["item"]["id"]]
        assert timeline_codes(seller, product_id).count("PUBLISHED") == 1
        found = audit(seller, product_id, sandbox)
        row.duplicated, row.lost, row.completed = found.duplicated, found.lost, 1
        assert found.problems == []


def _photoroom_recovers(fault: Fault, seller: Any, product_id: str, double: ProviderDouble) -> str:
    """The local remover stands in, and the main picture says so; once PhotoRoom answers again, the
    next picture is PhotoRoom's."""
    ready = wait_status(seller, product_id, "ready")
    fallback = ready["main_picture"]["fallback"]
    assert fallback["code"] == "BACKGROUND_FALLBACK", ready["main_picture"]
    assert fallback["params"] == {"provider": "photoroom", "cause": fault.shows}
    assert ready["main_picture"]["provider"] == "local"
    double.mode = "ok"
    main = ready["main_picture"]["image_id"]
    assert seller.call("PUT", f"/products/{product_id}/main-image", {"image_id": main}).status_code == 200
    again = wait_status(seller, product_id, "ready")
    assert again["revision"] == 2 and again["main_picture"]["provider"] == "photoroom"
    assert again["main_picture"]["fallback"] is None
    assert approve(seller, product_id).status_code == 200
    return (
        f"main picture by the local remover, {fallback['code']} ({fault.shows}); PhotoRoom's once it answered"
    )


def _gemini_recovers(fault: Fault, seller: Any, product_id: str, double: ProviderDouble) -> str:
    """The adapter's own retries run out: failed with the cause; the seller's retry, once Gemini
    answers, writes the listing with Gemini."""
    failed = wait_status(seller, product_id, "failed")
    assert failed["attention"]["code"] == fault.shows and failed["attention"]["params"]["retry"] is True
    assert double.calls["gemini"] >= 2  # the adapter retried before giving up
    double.mode = "ok"
    retried = seller.call("POST", f"/products/{product_id}/retry")
    assert retried.status_code == 200, retried.json
    wait_status(seller, product_id, "ready")
    from chalicelib.store.models import ListingVersionRow as ListingVersion

    [version] = list(ListingVersion.query(product_id, consistent_read=True))
    assert version.usage["provider"] == "gemini"
    assert approve(seller, product_id).status_code == 200
    return f"failed {fault.shows} after the adapter's retries; the seller's retry wrote it with Gemini"


def _mercadolibre_recovers(fault: Fault, seller: Any, sandbox: Any, product_id: str) -> str:
    """Publishing fails with the cause (or, for an expired token, refreshes it and goes on); the
    seller's retry, once MercadoLibre answers, publishes the same item."""
    wait_status(seller, product_id, "ready")
    if not fault.shows and fault.answers:
        sandbox.faults(*fault.answers)
        try:
            assert approve(seller, product_id).status_code == 200
            wait_status(seller, product_id, "published")
        finally:
            sandbox.faults()
        codes = timeline_codes(seller, product_id)
        assert "OUTCOME_UNKNOWN" in codes and not [c for c in codes if c.startswith("MERCADOLIBRE_")]
        return (
            "created, the answer dropped: found by its SELLER_SKU and finished, published without a failure"
        )
    if not fault.answers:
        from chalicelib.store.models import MarketplaceAccountRow as MarketplaceAccount

        before = MarketplaceAccount.get(seller.user_id).access_token
        assert requests.post(f"{sandbox.url}/_sandbox/expire-tokens", timeout=10).json()["expired"] >= 1
        assert approve(seller, product_id).status_code == 200
        wait_status(seller, product_id, "published")
        assert MarketplaceAccount.get(seller.user_id).access_token != before  # refreshed
        return "token refreshed by the adapter, published without a failure"
    sandbox.faults(*fault.answers)
    try:
        assert approve(seller, product_id).status_code == 200
        failed = wait_status(seller, product_id, "failed", 120)
    finally:
        sandbox.faults()
    assert failed["attention"]["code"] == fault.shows, failed["attention"]
    created = sandbox.items(seller, product_id)
    if fault.answers[0]["path"] != "/*":
        assert len(created) == 1  # the failure came after the item existed
    retried = seller.call("POST", f"/products/{product_id}/retry")
    assert retried.status_code == 200, retried.json
    status = failed["attention"]["params"]["status"]
    listed = f"{len(created)} item(s) listed"
    return f"failed {fault.shows} (HTTP {status}) with {listed}; the seller's retry published"
