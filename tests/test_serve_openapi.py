"""The service's OpenAPI document (``GET /api/openapi.json``) and schemathesis against a
running service with it: every route, GET and POST, with an operator token — no 5xx, and
every answer conforms to the document (issue 22)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub.cli.demo import config_text
from taskhub.config import load
from taskhub.hub import connect_all
from taskhub.serve import Access, Role, Token, build
from taskhub.serve.app import ROUTES
from taskhub.serve.openapi import document
from taskhub.testing import simulate
from tests.serving import fetch, serving

OPS = "ops-Qz7_k2Lw9xPq4RvT"


def needs_schemathesis() -> None:
    """schemathesis 4.32 needs Python 3.11 or newer; the suite's 3.11 run has it."""
    pytest.importorskip(
        "schemathesis",
        reason="schemathesis 4.32 (the test extra) installs on Python 3.11 and newer only",
    )


ROOT = Path(__file__).resolve().parents[1]
SEED = 22
MAX_EXAMPLES = 8
#: Where a request the document calls valid is refused all the same, and why: schemathesis'
#: positive-data check expects such a request to be taken.
REFUSED_WHEN_VALID = {
    # A job takes only its own parameters (GET /api/jobs lists them), which one document for
    # every job cannot spell out; anything else is a 400 naming the parameter. An
    # Idempotency-Key this token used for another job is a 422 (as the IETF idempotency-key
    # draft answers a key reused with another request).
    "submit": [400, 422],
    # A cursor is one the service gave out; any other text is a 400. The vendor decides what
    # it can do with a task: a vendor without cancel or retry is a 400 naming the alternative.
    "tasks": [400],
    "audit": [400],
    "cancel": [400, 422],
    "retry": [400, 422],
}


def test_every_route_declares_its_role_and_is_in_the_document() -> None:
    """One table: each route states who may call it, and the document is made from it."""
    paths = document(ROUTES)["paths"]
    for route in ROUTES:
        operation = paths[route.pattern][route.method.lower()]
        assert operation["security"] == ([] if route.role <= Role.SIGNED else [{"bearer": []}])
        assert operation["operationId"] == route.handler
    assert {r.handler for r in ROUTES if r.method == "POST" and r.role is Role.OPERATOR} == {
        "submit",
        "cancel",
        "retry",
    }


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        sims = {v: stack.enter_context(simulate(v)) for v in ("cognite", "livepeer", "vionlabs")}
        config = tmp_path / "taskhub.toml"
        config.write_text(config_text(sims))
        hubs = connect_all(load(config))
        served = build(
            hubs,
            f"sqlite:///{tmp_path / 'api.db'}",
            access=Access([Token("ops", Role.OPERATOR, OPS)]),
            start=False,
        )
        for hub in hubs.values():  # a few real tasks, so answers carry data
            spec = sims[hub.vendor].simulator.demo_spec()
            assert spec is not None
            hub.submit(**spec)
        served.store.flush(10)
        try:
            with serving(served.app) as address:
                yield address
        finally:
            served.close()
            for hub in hubs.values():
                hub.close()


def test_the_document_is_served_and_names_every_route(service: str) -> None:
    status, _, body = fetch(
        service, "/api/openapi.json", headers={"Authorization": f"Bearer {OPS}"}
    )
    assert status == 200
    served = json.loads(body)
    assert served["openapi"].startswith("3.1")
    assert set(served["paths"]) == {r.pattern for r in ROUTES}


def test_schemathesis_finds_nothing_against_the_running_service(
    service: str, tmp_path: Path
) -> None:
    needs_schemathesis()
    status, _, body = fetch(
        service, "/api/openapi.json", headers={"Authorization": f"Bearer {OPS}"}
    )
    assert status == 200
    schema = tmp_path / "openapi.json"
    schema.write_bytes(body)
    config = tmp_path / "schemathesis.toml"
    lines = ["[cache]", "enabled = false", ""]
    defaults = ["2xx", "3xx", 401, 403, 404, 409, 429]
    for operation, statuses in REFUSED_WHEN_VALID.items():
        expected = json.dumps([*defaults, *statuses])
        lines += [
            "[[operations]]",
            f'include-operation-id = "{operation}"',
            f"checks.positive_data_acceptance.expected-statuses = {expected}",
            "",
        ]
    config.write_text("\n".join(lines))
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config),
        "run", str(schema), "--url", f"http://{service}", "--checks", "all",
        "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
        "--workers", "1", "--output-truncate", "false",
        "--header", f"Authorization: Bearer {OPS}",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "5xx" not in output or "Server error" not in output
