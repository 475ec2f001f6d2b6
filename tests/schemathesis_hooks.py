"""schemathesis hooks for the GraphQL runs (loaded by the command line: SCHEMATHESIS_HOOKS).

schemathesis counts every entry of a GraphQL ``errors`` array as a failure. A GraphQL vendor
also answers a well-formed document with documented errors -- ``not_found`` for an id that
names nothing, ``invalid_input`` for an argument out of range -- and those are its contract,
not faults. tests/schema_exceptions.py lists them (``GRAPHQL_ERRORS``); this hook removes
exactly those entries from an answer before the checks read it, and only where a resolver
raised them (an entry with a ``path``): a document the server refused to execute, an
``internal_error`` or any unlisted name still fails its check.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from schemathesis.core import NOT_SET

from tests import schema_exceptions

VENDOR = os.environ.get("TASKHUB_SCHEMATHESIS_VENDOR", "")


def _allowed(error: Any, operation: str) -> bool:
    if not isinstance(error, dict) or "path" not in error:
        return False
    return any(
        entry.name == error.get("name") and (not entry.operations or operation in entry.operations)
        for entry in schema_exceptions.for_vendor(VENDOR).graphql_errors
    )


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Drop the documented errors a resolver answered with (the response is changed in place,
    as schemathesis' ``after_call`` hook intends)."""
    if not (response.headers.get("content-type") or [""])[0].startswith("application/json"):
        return
    try:
        payload = json.loads(response.content)
    except ValueError:
        return
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list):
        return
    operation = case.operation.label
    kept = [e for e in payload["errors"] if not _allowed(e, operation)]
    if len(kept) == len(payload["errors"]):
        return
    if kept:
        payload["errors"] = kept
    else:
        del payload["errors"]
    response.content = json.dumps(payload).encode()
    response.content_size = len(response.content)
    response._deserialized = NOT_SET  # the parsed body, read again from the new content
