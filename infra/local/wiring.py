"""How the app's S3 event handlers map onto local queues: one queue (and dead-letter queue) each."""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Chalice, S3EventConfig


@dataclass(frozen=True)
class EventRoute:
    handler_name: str
    bucket: str
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None
    queue_name: str
    dead_letter_queue_name: str


def event_routes(app: Chalice, queue_prefix: str) -> list[EventRoute]:
    routes = []
    for source in app.event_sources:
        if not isinstance(source, S3EventConfig):
            continue
        queue = f"{queue_prefix}-{source.name}"
        routes.append(
            EventRoute(
                handler_name=source.name,
                bucket=source.bucket,
                events=tuple(source.events),
                prefix=source.prefix or None,
                suffix=source.suffix or None,
                queue_name=queue,
                dead_letter_queue_name=f"{queue}-dlq",
            )
        )
    return routes
