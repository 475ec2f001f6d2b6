"""Acting from the service (issue 22): submit a named job, cancel, retry — through the
backends' hubs, with roles, an audit trail, submit keys and the anti-CSRF rules — on a
running ``taskhub serve`` app over the simulators, with SQLite and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub.cli.demo import config_text
from taskhub.config import load
from taskhub.hub import TaskHub, connect_all
from taskhub.serve import Access, Role, Served, Token, build
from taskhub.testing import Simulation, simulate
from tests.serving import fetch, serving
from tests.store.services import pg_server, pg_url  # noqa: F401 (fixtures)

OPS = "ops-Qz7_k2Lw9xPq4RvT"
VIEW = "view-Hn3Bt8Zy1Mc6Ws5D"
VENDORS = ("cognite", "livepeer")


@attrs.define
class Service:
    address: str
    served: Served
    sims: dict[str, Simulation]
    hubs: dict[str, TaskHub]

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = OPS,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        status, answer_headers, raw = fetch(
            self.address, path, method=method, headers=sent, body=data
        )
        kind = answer_headers.get("Content-Type", "")
        return status, json.loads(raw) if "json" in kind else raw.decode()

    def creates(self, vendor: str) -> int:
        """How many creates the vendor's simulator received."""
        return sum(
            1 for r in self.sims[vendor].requests if r.method == "POST" and _creates(vendor, r.path)
        )


def _creates(vendor: str, path: str) -> bool:
    return path.endswith(("/workflows/executions", "/run", "/asset/upload/url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    db = (
        f"sqlite:///{tmp_path / 'act.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    with contextlib.ExitStack() as stack:
        sims = {v: stack.enter_context(simulate(v)) for v in VENDORS}
        config = tmp_path / "taskhub.toml"
        config.write_text(config_text(sims))
        hubs = connect_all(load(config))
        access = Access([Token("ops", Role.OPERATOR, OPS), Token("grafana", Role.VIEWER, VIEW)])
        served = build(hubs, db, access=access, start=False)
        try:
            with serving(served.app) as address:
                yield Service(address, served, sims, hubs)
        finally:
            served.close()
            for hub in hubs.values():
                hub.close()


def test_roles_a_viewer_reads_and_only_an_operator_acts(service: Service) -> None:
    assert service.call("GET", "/api/jobs", token=VIEW)[0] == 200
    status, data = service.call("POST", "/api/jobs/livepeer-demo", token=VIEW, body={})
    assert status == 403 and "viewer" in data["error"]
    assert service.call("POST", "/api/jobs/livepeer-demo", token=None, body={})[0] == 401
    assert service.call("POST", "/api/jobs/livepeer-demo", token="wrong" * 5, body={})[0] == 401
    assert service.creates("livepeer") == 0


def test_submit_a_job_once_per_idempotency_key(service: Service) -> None:
    headers = {"Idempotency-Key": "order-7"}
    status, first = service.call("POST", "/api/jobs/livepeer-demo", body={}, headers=headers)
    assert status == 201, first
    assert first["vendor"] == "livepeer"
    status, again = service.call("POST", "/api/jobs/livepeer-demo", body={}, headers=headers)
    assert status == 200
    assert again["ref"] == first["ref"]
    assert service.creates("livepeer") == 1
    # Recorded at once, and in the audit trail with who acted.
    assert service.served.store.task(first["ref"]) is not None
    status, audit = service.call("GET", "/api/audit", token=VIEW)
    rows = [r for r in audit["audit"] if r["action"] == "submit"]
    assert [(r["who"], r["target"], r["outcome"], r["ref"]) for r in rows] == [
        ("ops", "livepeer-demo", "ok", first["ref"])
    ]


def test_a_refused_submit_sends_nothing_and_is_audited(service: Service) -> None:
    status, data = service.call("POST", "/api/jobs/livepeer-demo", body={"colour": "red"})
    assert status == 400
    assert "colour" in data["error"]
    status, data = service.call("POST", "/api/jobs/no-such-job", body={})
    assert status == 404
    assert service.creates("livepeer") == 0
    outcomes = [r["outcome"] for r in service.call("GET", "/api/audit")[1]["audit"]]
    assert outcomes == ["refused", "refused"]


def test_cancel_then_a_cancel_of_a_finished_task_is_refused_unless_forced(
    service: Service,
) -> None:
    status, run = service.call("POST", "/api/jobs/cognite-demo", body={})
    assert status == 201, run
    ref = run["ref"]
    status, cancelled = service.call("POST", f"/api/tasks/{ref}/cancel", body={"reason": "stop"})
    assert status == 200, cancelled
    assert cancelled["status"]["state"] == "cancelled"
    hub = service.hubs["cognite"]
    assert hub.get(run["id"]).state.value == "cancelled"  # the vendor's own word
    assert service.served.store.task(ref)["status"]["state"] == "cancelled"  # type: ignore[index]
    sent = len(service.sims["cognite"].requests)
    status, refused = service.call("POST", f"/api/tasks/{ref}/cancel", body={})
    assert status == 409
    assert "cancelled" in refused["error"]
    assert len(service.sims["cognite"].requests) == sent  # refused before any request
    status, _ = service.call("POST", f"/api/tasks/{ref}/cancel", body={"force": True})
    assert status in (200, 409)  # sent: the vendor decides
    assert len(service.sims["cognite"].requests) > sent
    audit = service.call("GET", "/api/audit")[1]["audit"]
    oldest_first = [(r["action"], r["outcome"]) for r in reversed(audit)]
    assert oldest_first[:3] == [("submit", "ok"), ("cancel", "ok"), ("cancel", "refused")]
    assert oldest_first[3][0] == "cancel"  # the forced one, whatever the vendor said


def test_retry_a_cancelled_execution(service: Service) -> None:
    status, run = service.call("POST", "/api/jobs/cognite-demo", body={})
    assert status == 201
    ref = run["ref"]
    assert service.call("POST", f"/api/tasks/{ref}/cancel", body={})[0] == 200
    status, retried = service.call("POST", f"/api/tasks/{ref}/retry")
    assert status == 200, retried
    assert retried["status"]["state"] in ("running", "queued", "pending")


def test_an_unsupported_action_is_refused_with_the_alternative(service: Service) -> None:
    status, task = service.call("POST", "/api/jobs/livepeer-demo", body={})
    assert status == 201
    status, data = service.call("POST", f"/api/tasks/{task['ref']}/cancel", body={})
    assert status == 400
    assert "livepeer" in data["error"]


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_cross_origin_post_is_refused(service: Service, headers: dict[str, str]) -> None:
    status, _ = service.call("POST", "/api/jobs/livepeer-demo", body={}, headers=headers)
    assert status == 403
    assert service.creates("livepeer") == 0


def test_a_page_session_must_send_its_anti_csrf_value(service: Service) -> None:
    from taskhub.serve.access import SESSION_COOKIE

    cookie = service.served.app.access.login(OPS).split(";", 1)[0]
    assert cookie.startswith(SESSION_COOKIE)
    no_token: dict[str, str] = {"Cookie": cookie}
    status, _ = service.call(
        "POST", "/api/jobs/livepeer-demo", token=None, body={}, headers=no_token
    )
    assert status == 403
    page = service.call("GET", "/", token=None, headers=no_token)[1]
    csrf = page.split('name="taskhub-csrf" content="', 1)[1].split('"', 1)[0]
    assert csrf
    status, _ = service.call(
        "POST", "/api/jobs/livepeer-demo", token=None, body={},
        headers={**no_token, "X-Taskhub-CSRF": csrf},
    )  # fmt: skip
    assert status == 201
    assert service.creates("livepeer") == 1


def test_audited_parameters_are_masked(service: Service) -> None:
    config = service.hubs["livepeer"].config
    assert config is not None
    status, _ = service.call(
        "POST", "/api/jobs/livepeer-demo", body={"token": "hunter2-secret-value"}
    )
    assert status == 400  # not a parameter of the job: refused, and audited masked
    rows = service.call("GET", "/api/audit")[1]["audit"]
    assert "hunter2-secret-value" not in json.dumps(rows)
