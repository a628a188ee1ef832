"""Notifications of the `items` topic, sent as MercadoLibre sends them (productos-recibe-notificaciones).

Any change of an item (created, updated, a new description, a status MercadoLibre set, a sale)
POSTs `{"_id", "resource": "/items/{id}", "user_id", "topic": "items", "application_id", "attempts",
"sent", "received"}` to the notifications URL of every app the seller authorized that subscribed to
the topic. An answer other than 200 is a failed delivery: the notification is sent again, `attempts`
counting, up to 8 times (MercadoLibre spreads those over an hour; the sandbox over a few seconds),
then given up. Delivery runs on a thread of its own, never inside the request that changed the item.
"""

from __future__ import annotations

import queue
import threading
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
        self.queue: queue.Queue[Delivery] = queue.Queue()
        self.sent: list[dict[str, Any]] = []  # every attempt: {url, body, status}, for the harness
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def item_changed(self, item: dict[str, Any]) -> None:
        for app in self.state.apps_of(int(item["seller_id"])):
            if app.notifications_url and TOPIC in app.topics:
                self.queue.put(Delivery(app.notifications_url, notification(item, app, self.state.clock())))
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._send(self.queue.get())

    def _send(self, delivery: Delivery) -> None:
        attempts = delivery.body["attempts"] + 1
        body = {**delivery.body, "attempts": attempts, "sent": _stamp(self.state.clock())}
        try:
            status = requests.post(delivery.url, json=body, timeout=5).status_code
        except requests.RequestException:
            status = 0
        self.sent.append({"url": delivery.url, "body": body, "status": status})
        if status != 200 and attempts < MAX_ATTEMPTS:
            again = threading.Timer(
                FIRST_WAIT_SECONDS * 2 ** (attempts - 1), self.queue.put, [Delivery(delivery.url, body)]
            )
            again.daemon = True
            again.start()


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
