"""One logger and one metrics object for every function, wired once through Chalice middleware."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from chalice.app import BaseLambdaEvent, Request

logger = Logger()
metrics = Metrics()

REQUEST_ID_HEADER = "X-Request-Id"
_INVOCATION_KEYS = ["function_name", "request_id"]


def request_id_of(request: Request) -> str:
    """API Gateway's request id when there is one (chalice local has none)."""
    context = request.context or {}
    return str(context.get("requestId") or uuid.uuid4())


def in_invocation(function_name: str, request_id: str, call: Callable[[], Any]) -> Any:
    """Run one invocation with its ids on every log line, then publish its metrics."""
    logger.append_keys(function_name=function_name, request_id=request_id)
    try:
        return call()
    finally:
        logger.remove_keys(_INVOCATION_KEYS)
        if metrics.metric_set:  # an invocation that counted nothing publishes nothing
            metrics.flush_metrics()


def event_middleware(event: BaseLambdaEvent, get_response: Callable[[BaseLambdaEvent], Any]) -> Any:
    """Chalice middleware for the event-triggered functions (S3 today)."""
    context = event.context
    name = getattr(context, "function_name", "unknown")
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    return in_invocation(name, request_id, lambda: get_response(event))
