"""The simulator framework: clock, fault plan, request log, server, simulate, leak guard."""

from __future__ import annotations

import logging

import pytest
import requests

from taskhub import ConfigError, registry
from taskhub.testing import Fault, FaultPlan, SimClock, SimServer, Simulation, simulate
from taskhub.testing.contract import LeakGuard

from .toy import ToyAdapter


def test_manual_clock_moves_only_when_told() -> None:
    clock = SimClock(manual=True, start=1000.0)
    assert clock.now() == 1000.0
    clock.advance(2.5)
    assert clock.now() == 1002.5
    assert clock.now_ms() == 1_002_500
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = SimClock(speed=1000.0, start=0.0)
    first = clock.now()
    second = clock.now()
    assert second >= first
    assert clock.speed == 1000.0


def test_fault_plan_counts_paths_methods_and_after() -> None:
    plan = FaultPlan()
    plan.add(Fault("status", status=500, method="GET", path=r"^/v1/tasks/", times=2, after=1))
    hits = [plan.match("GET", "/v1/tasks/t1") for _ in range(4)]
    assert [h is not None for h in hits] == [False, True, True, False]
    assert plan.match("POST", "/v1/tasks/t1") is None


def test_probability_faults_are_seeded() -> None:
    def run(seed: int) -> list[bool]:
        plan = FaultPlan(seed)
        plan.add(Fault("status", probability=0.3, times=None))
        return [plan.match("GET", "/") is not None for _ in range(50)]

    assert run(7) == run(7)
    assert 5 < sum(run(7)) < 25


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan().add(Fault("explode"))  # type: ignore[arg-type]


def test_server_serves_on_an_ephemeral_loopback_port() -> None:
    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"hello"]

    with SimServer(app) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert requests.get(server.url, timeout=5).text == "hello"
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018


def test_simulation_logs_requests_and_injects_vendor_shaped_faults(toy: Simulation) -> None:
    toy.inject(status=503, headers={"Retry-After": "7"})
    answer = requests.get(toy.url + "/tasks", timeout=5)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"
    assert answer.json()["error"]["message"] == "injected fault"
    record = toy.requests[0]
    assert (record.method, record.path, record.status, record.fault) == (
        "GET",
        "/v1/tasks",
        503,
        "status",
    )


def test_unknown_routes_answer_in_the_vendor_shape(toy: Simulation) -> None:
    answer = requests.get(toy.url + "/nowhere", timeout=5)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "E404"
    assert requests.delete(toy.url + "/tasks", timeout=5).status_code == 405


class _NoSimulator(ToyAdapter):
    simulator = None


def test_simulate_refuses_a_vendor_without_simulator() -> None:
    registry.register_adapter("nosim", _NoSimulator)
    try:
        with pytest.raises(ConfigError, match="has no simulator"), simulate("nosim"):
            pass
    finally:
        registry.unregister_adapter("nosim")


def test_the_leak_guard_finds_secrets_in_logs_reprs_and_causes() -> None:
    guard = LeakGuard(["s3cr3t-value"])
    guard.records.append(
        logging.LogRecord("taskhub", 10, "x", 1, "token=%s", ("s3cr3t-value",), None)
    )
    error = ValueError("outer")
    error.__cause__ = RuntimeError("inner s3cr3t-value")
    guard.add(error)
    guard.add(["s3cr3t-value"])
    assert len(guard.leaks()) == 4
    assert LeakGuard(["s3cr3t-value"]).leaks() == []
