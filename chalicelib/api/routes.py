"""The route table: each route is declared once, and both Chalice and the OpenAPI document read it.

It is also the edge every handler stands behind: it checks the caller of every route that needs one,
hands the handler what it asks for by parameter name (the caller's `user_id`, the `body` or `query`
parsed into the route's models, the `request`), turns what the handler returns into the answer (a
response model at the route's status), and turns a domain error into the API's error shape.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import views
from chalicelib.api.edge import answer, body, caller, query
from chalicelib.api.http import from_domain
from chalicelib.api.schemas import ErrorOut
from chalicelib.domain.errors import DomainError
from chalicelib.listings import ListingChanged

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    summary: str
    status: int
    auth: bool
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    errors: tuple[int, ...]
    handler: str


class RouteTable:
    def __init__(self, blueprint: Blueprint, prefix: str) -> None:
        self.blueprint = blueprint
        self.prefix = prefix
        self.routes: list[Route] = []

    def __call__(
        self,
        path: str,
        method: str,
        summary: str,
        *,
        status: int = 200,
        auth: bool = True,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        errors: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            route = Route(
                path, method, summary, status, auth, body, query, response, errors, handler.__name__
            )
            self.routes.append(route)
            return self.blueprint.route(path, methods=[method])(self._edge(route, handler))  # type: ignore[no-any-return]

        return register

    def _edge(self, route: Route, handler: Handler) -> Handler:
        wants = set(inspect.signature(handler).parameters)

        @functools.wraps(handler)
        def view(**path: str) -> Response:
            request = self.blueprint.current_request
            given: dict[str, Any] = dict(path)
            if route.auth:
                user_id = caller(request)
                if "user_id" in wants:
                    given["user_id"] = user_id
            if route.body is not None and "body" in wants:
                given["body"] = body(request, route.body)
            if route.query is not None and "query" in wants:
                given["query"] = query(request, route.query)
            if "request" in wants:
                given["request"] = request
            try:
                result = handler(**given)
            except DomainError as error:
                raise from_domain(error, _details(error)) from None
            return result if isinstance(result, Response) else answer(result, route.status)

        return view

    def openapi(self) -> dict[str, Any]:
        models: set[type[BaseModel]] = {ErrorOut}
        for route in self.routes:
            models |= {m for m in (route.body, route.query, route.response) if m is not None}
        refs, schemas = models_json_schema(
            [(model, "validation" if model in self._inputs() else "serialization") for model in models],
            ref_template="#/components/schemas/{model}",
        )
        paths: dict[str, dict[str, Any]] = {}
        for route in self.routes:
            paths.setdefault(self.prefix + route.path, {})[route.method.lower()] = self._operation(
                route, refs
            )
        return {
            "openapi": "3.1.0",
            "info": {"title": "IntelliPost API", "version": "1"},
            "paths": paths,
            "components": {
                "schemas": schemas.get("$defs", {}),
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }

    def _inputs(self) -> set[type[BaseModel]]:
        return {m for route in self.routes for m in (route.body, route.query) if m is not None}

    def _operation(self, route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
        def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
            return dict(refs[(model, mode)])

        operation: dict[str, Any] = {"operationId": route.handler, "summary": route.summary, "parameters": []}
        for name in re.findall(r"{(\w+)}", route.path):
            operation["parameters"].append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
        if route.query is not None:
            for name, field in route.query.model_fields.items():
                schema = route.query.model_json_schema(ref_template="#/components/schemas/{model}")[
                    "properties"
                ][name]
                operation["parameters"].append(
                    {"name": name, "in": "query", "required": field.is_required(), "schema": schema}
                )
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(route.body, "validation")}},
            }
        success: dict[str, Any] = {"description": route.summary}
        if route.response is not None:
            success["content"] = {"application/json": {"schema": ref(route.response, "serialization")}}
        error = {
            "description": "an error in the single error shape",
            "content": {"application/json": {"schema": ref(ErrorOut, "serialization")}},
        }
        statuses = set(route.errors)
        if route.auth:
            statuses.add(401)
            operation["security"] = [{"bearer": []}]
        if route.body is not None or route.query is not None:
            statuses |= {400, 422}
        if route.body is not None:
            statuses.add(413)
        operation["responses"] = {str(route.status): success, **{str(s): error for s in sorted(statuses)}}
        return operation


def _details(error: DomainError) -> dict[str, Any]:
    """What the error says beyond its code: a stale edit carries the listing as it is now, so the
    panel keeps what the seller typed next to it."""
    if isinstance(error, ListingChanged):
        return {**error.params, "current": views.listing_out(error.current).model_dump(mode="json")}
    return error.params
