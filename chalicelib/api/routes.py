"""The route table: each route is declared once, and both Chalice and the OpenAPI document read it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.schemas import ErrorOut

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
            self.routes.append(
                Route(path, method, summary, status, auth, body, query, response, errors, handler.__name__)
            )
            return self.blueprint.route(path, methods=[method])(handler)  # type: ignore[no-any-return]

        return register

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
