"""The service's OpenAPI 3.1 document, made from its route table (``GET /api/openapi.json``).

Each route gives its path, method, query parameters, request body, success answer, the errors
it may answer, and whether it needs a token; the schemas are declared here once, the task's
own taken from the schema the package carries (``taskhub/task.schema.json``, copied to
docs/task.schema.json). The tests run schemathesis against a running service with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from taskhub import __version__
from taskhub.states import State

from .routes import Role, Route

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_STATES = [s.value for s in State]


@cache
def task_schema() -> dict[str, Any]:
    """The JSON schema of ``Task.to_dict()``, as the package carries it."""
    text = resources.files("taskhub").joinpath("task.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _object(properties: dict[str, Any], *, required: Iterable[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }


def _transition() -> dict[str, Any]:
    return _object(
        {
            "ref": {"type": "string"},
            "seq": {"type": "integer"},
            "from": {"type": ["string", "null"], "enum": [*_STATES, None]},
            "to": {"type": "string", "enum": _STATES},
            "at": {"type": "string"},
            "change": {"type": "string"},
            "raw": _NULLABLE_STRING,
            "reason": _NULLABLE_STRING,
            "message": _NULLABLE_STRING,
            "progress": {"type": ["number", "null"]},
        }
    )


def _audit_row() -> dict[str, Any]:
    return _object(
        {
            "id": {"type": "integer"},
            "at": {"type": "string"},
            "who": {"type": "string"},
            "action": {"type": "string", "enum": ["submit", "cancel", "retry"]},
            "target": {"type": "string"},
            "params": {},
            "outcome": {"type": "string", "enum": ["ok", "refused", "failed", "unknown"]},
            "ref": _NULLABLE_STRING,
            "detail": _NULLABLE_STRING,
        }
    )


def _job() -> dict[str, Any]:
    names = {"type": "array", "items": {"type": "string"}}
    return _object(
        {
            "name": {"type": "string"},
            "backend": {"type": "string"},
            "vendor": {"type": "string"},
            "params": names,
            "ignore": names,
        }
    )


def _schemas() -> dict[str, Any]:
    task = {k: v for k, v in task_schema().items() if k not in ("$schema", "$id", "$defs")}
    defs = task_schema().get("$defs", {})
    transition, audit_row = _transition(), _audit_row()
    schemas: dict[str, Any] = {
        "Error": _object({"error": {"type": "string"}, "status": {"type": "integer"}}),
        "Task": task,
        "TaskDetail": task,
        "TaskPage": _object(
            {
                "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                "total": {"type": "integer", "minimum": 0},
                "exact": {"type": "boolean"},
                "limit": {"type": "integer"},
                "next": _NULLABLE_STRING,
            }
        ),
        "Transitions": _object(
            {"ref": {"type": "string"}, "transitions": {"type": "array", "items": transition}}
        ),
        "Counts": _object(
            {
                "level": {"type": "string", "enum": ["task", "subtask"]},
                "counts": {
                    "type": "array",
                    "items": _object(
                        {
                            "backend": {"type": "string"},
                            "vendor": {"type": "string"},
                            "state": {"type": "string", "enum": _STATES},
                            "count": {"type": "integer", "minimum": 1},
                        }
                    ),
                },
            }
        ),
        "Health": _object(
            {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "store": {"type": "object"},
                "backends": {"type": "object"},
            },
            required=["status", "store", "backends"],
        ),
        "Jobs": _object({"jobs": {"type": "array", "items": _job()}}),
        "Audit": _object(
            {"audit": {"type": "array", "items": audit_row}, "next": _NULLABLE_STRING}
        ),
        **_stats_schemas(),
        "WebhookAccepted": _object(
            {
                "accepted": {"type": "string"},
                "ref": {"type": "string"},
                "state": {"type": "string", "enum": _STATES},
                "transition": _NULLABLE_STRING,
            }
        ),
        "Params": {"type": "object", "description": "The job's parameters by name."},
        "Cancel": {
            "type": "object",
            "properties": {
                "force": {"type": "boolean"},
                "reason": {"type": ["string", "null"], "maxLength": 500},
            },
            "additionalProperties": False,
        },
    }
    # The task schema's own definitions, where its $refs point (#/$defs/...), kept beside it.
    schemas.update({f"_{name}": value for name, value in defs.items()})
    return schemas


def _stats_schemas() -> dict[str, Any]:
    """The answers of ``/api/stats/finished`` and ``/api/stats/durations``."""
    when = {"type": "string", "format": "date-time"}
    window = {"hours": {"type": "integer", "minimum": 1}, "start": when, "end": when}
    bounded = {"exact": {"type": "boolean"}, "complete_from": {"type": ["string", "null"]}}
    count = {"type": "integer", "minimum": 0}
    seconds = {"type": "number", "minimum": 0}
    series = _object(
        {
            "vendor": {"type": "string"},
            "state": {"type": "string", "enum": [s.value for s in State if s.terminal]},
            "counts": {"type": "array", "items": count},
            "total": {"type": "integer", "minimum": 1},
        }
    )
    spread = _object(
        {
            "vendor": {"type": "string"},
            "count": {"type": "integer", "minimum": 1},
            "p50": seconds,
            "p95": seconds,
            "max": seconds,
        }
    )
    return {
        "Finished": _object(
            {
                **window,
                "hour_starts": {"type": "array", "items": when},
                "series": {"type": "array", "items": series},
                "total": count,
                "scanned": count,
                **bounded,
            }
        ),
        "Durations": _object({**window, "vendors": {"type": "array", "items": spread}, **bounded}),
    }


def _rewrite_refs(value: Any) -> Any:
    """The task schema's ``#/$defs/X`` as ``#/components/schemas/_X``."""
    if isinstance(value, dict):
        return {
            k: (
                "#/components/schemas/_" + v.split("/")[-1]
                if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                else _rewrite_refs(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


#: Text a parameter may hold: no control characters (they are refused with 400).
TEXT = "^[^\\x00-\\x1f\\x7f]*$"
#: A task's ref: a backend name, a colon, an id.
REF = "^[^\\x00-\\x1f\\x7f:/]+:[^\\x00-\\x1f\\x7f]+$"


def _parameter(param: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": param.type}
    if param.type == "string" and not param.enum:
        schema["pattern"] = REF if param.name == "parent" else TEXT
    if param.format:
        schema["format"] = param.format
    if param.max_length is not None:
        schema["maxLength"] = param.max_length
    if param.enum:
        schema["enum"] = list(param.enum)
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    return {
        "name": param.name,
        "in": "query",
        "required": False,
        "description": param.description,
        "schema": schema,
    }


def _json_answer(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _operation(route: Route) -> dict[str, Any]:
    names = [s[1:-1] for s in route.segments if s.startswith("{")]
    parameters = [
        {
            "name": n,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": REF if n == "ref" else TEXT, "maxLength": 1024},
        }
        for n in names
    ]
    parameters += [_parameter(p) for p in route.params]
    answers: dict[str, Any] = {}
    if route.answers:
        answers[str(route.status)] = _json_answer("Done.", route.answers)
    elif route.handler == "page":
        answers["200"] = {
            "description": "The page.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    elif route.handler == "metrics":
        answers["200"] = {
            "description": "Prometheus' text format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    else:
        answers["200"] = {
            "description": "Done.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    if route.handler == "submit":
        answers["200"] = _json_answer("The task an earlier request with this key made.", "Task")
    if route.handler == "page":
        answers["303"] = {
            "description": "Logged in (with ?token=): to the page, with a session cookie."
        }
    for status in (*route.errors, 400, 405):
        answers.setdefault(str(status), _json_answer("Refused.", "Error"))
    operation: dict[str, Any] = {
        "operationId": route.handler,
        "summary": route.summary,
        "parameters": parameters,
        "responses": answers,
        "security": [] if route.role <= Role.SIGNED else [{"bearer": []}],
    }
    if route.handler == "page":
        operation["parameters"] = [
            *parameters,
            {
                "name": "token",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Log in: sets a session cookie.",
            },
        ]
    if route.body:
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{route.body}"}}
            },
        }
    if route.handler == "submit":
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 256},
                "description": "A submit repeating a key this token used returns the task it made.",
            }
        )
    return operation


def document(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.pattern, {})[route.method.lower()] = _operation(route)
    found: dict[str, Any] = _rewrite_refs(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "taskhub serve",
                "version": __version__,
                "description": "Tasks of several media-AI vendors, followed into one store: read "
                "them, and act on them as an operator. See docs/dashboards.md.",
            },
            "paths": paths,
            "components": {
                "schemas": _schemas(),
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }
    )
    return found
