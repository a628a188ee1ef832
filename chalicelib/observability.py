"""One logger and one metrics object for every function, wired once through Chalice middleware.

Metrics are CloudWatch EMF lines in namespace IntelliPost (POWERTOOLS_METRICS_NAMESPACE), printed
when an invocation ends; every one carries the `service` dimension. `count` is the one way to add a
data point; `provider_call` times a call to an outside provider. Dimensions are a small fixed set
(provider, source, cause code), never ids: each combination is a CloudWatch metric of its own.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from chalice.app import BaseLambdaEvent, Request

logger = Logger()
metrics = Metrics()

# One EMF document holds one set of dimensions: data points with their own go into their own,
# flushed with the rest. The lock matters locally, where the event runtime runs handlers in threads.
_dimensioned: dict[tuple[tuple[str, str], ...], AmazonCloudWatchEMFProvider] = {}
_lock = threading.Lock()

P = ParamSpec("P")
R = TypeVar("R")


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One data point of `name`, published when the invocation ends (nothing when metrics are off)."""
    if is_metrics_disabled():
        return
    with _lock:
        if not dimensions:
            metrics.add_metric(name=name, unit=unit, value=value)
            return
        key = tuple(sorted(dimensions.items()))
        document = _dimensioned.get(key)
        if document is None:
            document = _dimensioned[key] = AmazonCloudWatchEMFProvider()
            for dimension, dimension_value in key:
                document.add_dimension(name=dimension, value=dimension_value)
        document.add_metric(name=name, unit=unit, value=value)


def provider_call(provider: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """ProviderLatencyMs for every call (retries included: what the seller waits), ProviderErrors
    when it raises; both by `provider` (photoroom, gemini, mercadolibre, local_remover, local_writer)."""

    def decorate(call: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(call)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            except Exception:
                count("ProviderErrors", 1, MetricUnit.Count, provider=provider)
                raise
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                count("ProviderLatencyMs", elapsed, MetricUnit.Milliseconds, provider=provider)

        return timed

    return decorate


def flush() -> None:
    """Print this invocation's metrics (if it counted any) and start the next one empty."""
    with _lock:
        if is_metrics_disabled():
            metrics.clear_metrics()  # nothing is printed, and nothing may pile up across invocations
        elif metrics.metric_set:
            metrics.flush_metrics()
        for document in _dimensioned.values():
            document.flush_metrics()
        _dimensioned.clear()


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
        flush()  # an invocation that counted nothing publishes nothing


def event_middleware(event: BaseLambdaEvent, get_response: Callable[[BaseLambdaEvent], Any]) -> Any:
    """Chalice middleware for the functions an event runs (S3, the schedule, a failure destination)."""
    context = event.context
    name = getattr(context, "function_name", "unknown")
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    return in_invocation(name, request_id, lambda: get_response(event))
