"""The OpenAPI 3 schema of ``GET /api/v2/schema``, built from the route table (routes.py).

Like DSMR-reader's (DRF's ``get_schema_view``): OpenAPI 3.0.2 in YAML, title "DSMR-reader API",
operation ids as DSMR-reader names them. Unlike it, it lists the v1 telegram route and
``application/status`` (both served here) and declares the two ways to send the key.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
import json
from typing import Any, Final

import yaml  # type: ignore[import-untyped]  # PyYAML ships no types

from .params import FilterKind
from .routes import ROUTES, Route
from .serializers import DSMR_READER_VERSION
from .validation import body_schema

MEDIA_TYPE: Final = "application/vnd.oai.openapi"
JSON_MEDIA_TYPE: Final = "application/vnd.oai.openapi+json"
OPENAPI_VERSION: Final = "3.0.2"
TITLE: Final = "DSMR-reader API"
SECURITY_SCHEMES: Final = {
    "AuthKey": {"type": "apiKey", "in": "header", "name": "X-AUTHKEY"},
    "Token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'The key after "Token ": Authorization: Token <key>.',
    },
}
_SECURITY: Final[list[dict[str, list[str]]]] = [{"AuthKey": []}, {"Token": []}]

# Field types of the record dataclasses (annotations are strings) and their JSON rendering.
_TYPE_SCHEMAS: Final[dict[str, dict[str, str]]] = {
    "Decimal": {"type": "string", "format": "decimal"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "int": {"type": "integer"},
    "str": {"type": "string"},
}
_FILTER_SCHEMAS: Final = {
    FilterKind.DATETIME: {"type": "string", "format": "date-time"},
    FilterKind.ISO_DATETIME: {"type": "string", "format": "date-time"},
    FilterKind.DATE: {"type": "string", "format": "date"},
}


def record_schema(record: type) -> dict[str, Any]:
    """Return the schema of a record as the API renders it: ``id`` first, then its fields."""
    properties: dict[str, Any] = {"id": {"type": "integer", "readOnly": True}}
    for item in fields(record):
        annotation = str(item.type)
        base = annotation.removesuffix(" | None")
        schema: dict[str, str | bool] = dict(_TYPE_SCHEMAS[base])
        if base != annotation:
            schema["nullable"] = True
        properties.setdefault(item.name, schema)
    return {"type": "object", "properties": properties}


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if route.paginated:
        parameters += [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Number of results to return per page (default 25).",
                "schema": {"type": "integer"},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "The initial index from which to return the results.",
                "schema": {"type": "integer"},
            },
            {
                "name": "ordering",
                "in": "query",
                "required": False,
                "description": "Comma-separated fields, - for descending; unknown ones are "
                f"ignored. Default: {route.ordering[0]}.",
                "schema": {
                    "type": "string",
                    "enum": [f"{sign}{name}" for name in route.ordering for sign in ("", "-")],
                },
            },
        ]
    parameters += [
        {
            "name": item.param,
            "in": "query",
            "required": False,
            "description": f"{item.field} {item.operator}",
            "schema": _FILTER_SCHEMAS[item.kind],
        }
        for item in route.filters
    ]
    return parameters


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(route: Route, method: str, operation_id: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "description": route.description,
    }
    if method == "get" and route.paginated:
        operation["parameters"] = _parameters(route)
    result: dict[str, Any] = (
        record_schema(route.record) if route.record is not None else {"type": "object"}
    )
    if method == "get" and route.paginated:
        result = {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": {"type": "array", "items": result},
            },
        }
    responses: dict[str, Any]
    if route.text_response:
        responses = {
            "201": {"description": "Stored (empty body)."},
            "400": {"description": "Invalid data (no telegram)."},
            "403": {"description": "Invalid auth key."},
            "405": {"description": "API is disabled."},
            "500": {"description": "Failed to parse telegram."},
        }
    elif method == "get" and route.public:
        responses = {"200": {"description": "", "content": {MEDIA_TYPE: {"schema": {}}}}}
    elif method == "post":
        responses = {"201": {"description": "", "content": _json(result)}}
    else:
        responses = {"200": {"description": "", "content": _json(result)}}
    if method in ("post", "patch") and route.body:
        operation["requestBody"] = {
            "content": {
                media_type: {"schema": body_schema(route.body)}
                for media_type in (
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                )
            }
        }
    elif route.form_body:
        operation["requestBody"] = {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {name: {"type": "string"} for name in route.form_body},
                        "required": list(route.form_body),
                    }
                }
            }
        }
    if not route.public and not route.text_response:
        responses["403"] = {"description": "API disabled or wrong key."}
    operation["responses"] = responses
    operation["security"] = [] if route.public else _SECURITY
    return operation


def openapi_schema() -> dict[str, Any]:
    """Return the OpenAPI document of every route this API serves."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": DSMR_READER_VERSION,
            "description": "DSMR-reader compatible API served by Home Assistant's smartmeter "
            "integration. Send the key as X-AUTHKEY: <key> or Authorization: Token <key>.",
        },
        "paths": {
            route.path: {
                method: _operation(route, method, operation_id)
                for method, operation_id in route.operations.items()
            }
            for route in ROUTES
        },
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types
    """A YAML dumper that writes shared parts out again, without anchors (as DRF's)."""

    def ignore_aliases(self, data: object) -> bool:
        """Never make an alias."""
        return True


@cache
def openapi_yaml() -> str:
    """Return the schema as YAML, keys in document order (as DRF's OpenAPIRenderer)."""
    text: str = yaml.dump(openapi_schema(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text


@cache
def openapi_json() -> str:
    """Return the schema as JSON, as DRF's JSONOpenAPIRenderer writes it."""
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False)
