"""Notifications of the `items` topic, sent as MercadoLibre sends them (productos-recibe-notificaciones).

Any change of an item (created, updated, a new description, a status MercadoLibre set, a sale)
POSTs `{"_id", "resource": "/items/{id}", "user_id", "topic": "items", "application_id", "attempts",
"sent", "received"}` to the notifications URL of every app the seller authorized that subscribed to
the topic. An answer other than 200 is a failed delivery: the notification is sent again, `attempts`
counting, up to 8 times (MercadoLibre spreads those over an hour; the sandbox over a few seconds),
then given up. Delivery runs on a thread of its own, never inside the request that changed the item;
the thread lives only while a delivery is due, so a sandbox at rest runs no thread (`close` ends it).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from infra.local.mercadolibre.state import App, SandboxState

TOPIC = "items"
MAX_ATTEMPTS = 8
FIRST_WAIT_SECONDS = 0.25


@dataclass
class Delivery:
    url: str
    body: dict[str, Any]


class Notifier:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.sent: list[dict[str, Any]] = []  # every attempt: {url, body, status}, for the harness
        self._due: list[tuple[float, int, Delivery]] = []  # a heap by due time
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def item_changed(self, item: dict[str, Any]) -> None:
        for app in self.state.apps_of(int(item["seller_id"])):
            if app.notifications_url and TOPIC in app.topics:
                due = notification(item, app, self.state.clock())
                self._schedule(0, Delivery(app.notifications_url, due))

    def close(self) -> None:
        """Drop what is still due and end the delivery thread."""
        with self._wake:
            self._due.clear()
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(10)

    def _schedule(self, delay: float, delivery: Delivery) -> None:
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), delivery))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while (delivery := self._next()) is not None:
            self._send(delivery)

    def _next(self) -> Delivery | None:
        """The next delivery when it is due; None (and the thread ends) when nothing is left."""
        with self._wake:
            while self._due:
                at, _, delivery = self._due[0]
                wait = at - time.monotonic()
                if wait <= 0:
                    heapq.heappop(self._due)
                    return delivery
                self._wake.wait(wait)
            self._thread = None
            return None

    def _send(self, delivery: Delivery) -> None:
        attempts = delivery.body["attempts"] + 1
        body = {**delivery.body, "attempts": attempts, "sent": _stamp(self.state.clock())}
        try:
            status = requests.post(delivery.url, json=body, timeout=5).status_code
        except requests.RequestException:
            status = 0
        self.sent.append({"url": delivery.url, "body": body, "status": status})
        if status != 200 and attempts < MAX_ATTEMPTS:
            self._schedule(FIRST_WAIT_SECONDS * 2 ** (attempts - 1), Delivery(delivery.url, body))


def notification(item: dict[str, Any], app: App, now: float) -> dict[str, Any]:
    """The notification of a change of `item` for `app`, before its first delivery attempt."""
    return {
        "_id": str(uuid.uuid4()),
        "resource": f"/items/{item['id']}",
        "user_id": int(item["seller_id"]),
        "topic": TOPIC,
        "application_id": int(app.client_id) if app.client_id.isdigit() else app.client_id,
        "attempts": 0,
        "sent": _stamp(now),
        "received": _stamp(now),
    }


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
