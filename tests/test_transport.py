"""The transport over real loopback HTTP: retry policy, Retry-After, timeouts, errors, redaction."""

from __future__ import annotations

import email.utils
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from taskhub import (
    AuthError,
    Conflict,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    TaskhubError,
    TaskNotFound,
    VendorUnavailable,
)
from taskhub.http import ErrorInfo, Transport, parse_retry_after
from taskhub.testing import Simulation

from .toy import TOKEN, ToyOptions, ToySimulator, _error_info


def make(sim_or_url: Simulation | str, **options: Any) -> Transport:
    url = sim_or_url if isinstance(sim_or_url, str) else sim_or_url.url
    opts = ToyOptions(token=TOKEN, base_url=url, **{"max_retries": 3, "timeout": 2, **options})
    return Transport(
        vendor="toy",
        base_url=url,
        options=opts,
        error_info=_error_info,
        headers={"Authorization": f"Bearer {TOKEN}"},
        request_id_header="X-Request-Id",
        seed=1,
    )


@pytest.fixture
def transport(toy: Simulation) -> Iterator[Transport]:
    t = make(toy)
    yield t
    t.close()


def create(t: Transport) -> Any:
    return t.request_json("POST", "/tasks", operation="submit", creates=True, json={"a": 1})


def test_503_then_success_is_retried(toy: Simulation, transport: Transport) -> None:
    created = create(transport)
    toy.inject(status=503, times=2, method="GET")
    assert transport.request_json("GET", f"/tasks/{created['id']}", operation="get")["id"]
    assert [r.fault for r in toy.requests[1:]] == ["status", "status", None]


def test_a_persistent_503_gives_up_after_the_allowed_tries(toy: Simulation) -> None:
    t = make(toy, max_retries=2)
    toy.inject(status=503, times=None)
    with pytest.raises(VendorUnavailable) as info:
        t.request("GET", "/tasks", operation="list")
    assert info.value.http_status == 503
    assert len(toy.requests) == 3


def test_retry_after_seconds_is_honoured(
    toy: Simulation, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    toy.inject(status=429, times=1, headers={"Retry-After": "0.3"})
    with caplog.at_level(logging.DEBUG, logger="taskhub"):
        transport.request("GET", "/tasks", operation="list")
    assert "retrying list in 0.30s" in caplog.text


def test_retry_after_as_an_http_date_is_honoured(
    toy: Simulation, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    when = email.utils.formatdate(time.time() + 1, usegmt=True)
    toy.inject(status=503, times=1, headers={"Retry-After": when})
    with caplog.at_level(logging.DEBUG, logger="taskhub"):
        transport.request("GET", "/tasks", operation="list")
    waited = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(waited) == 1
    assert 0.0 <= float(waited[0].getMessage().split(" in ")[1].split("s ")[0]) <= 1.0


def test_retry_after_beyond_the_budget_raises_at_once(toy: Simulation) -> None:
    t = make(toy, max_retry_time=5)
    toy.inject(status=429, times=None, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited) as info:
        t.request("GET", "/tasks", operation="list")
    assert info.value.retry_after == 3600
    assert len(toy.requests) == 1


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 + 60) == 0


def test_a_dropped_read_is_retried(toy: Simulation, transport: Transport) -> None:
    toy.inject("drop", times=1, method="GET")
    assert transport.request_json("GET", "/tasks", operation="list") == {"items": [], "next": None}
    assert len(toy.requests) == 2


def test_a_slow_read_times_out_and_is_retried(toy: Simulation) -> None:
    t = make(toy, timeout=0.3)
    toy.inject("delay", seconds=1.0, times=1, method="GET")
    assert t.request_json("GET", "/tasks", operation="list")["items"] == []
    assert len(toy.requests) == 2


def test_a_create_that_timed_out_is_not_repeated(toy: Simulation) -> None:
    t = make(toy, timeout=0.3)
    toy.inject("delay", seconds=1.0, times=1, method="POST")
    with pytest.raises(OutcomeUnknown) as info:
        create(t)
    assert "may or may not" in str(info.value)
    assert len(_toy(toy).tasks) == 1  # it did happen, once
    assert len(toy.requests) == 1


def test_a_create_whose_connection_dropped_is_not_repeated(
    toy: Simulation, transport: Transport
) -> None:
    toy.inject("drop", times=1, method="POST")
    with pytest.raises(OutcomeUnknown):
        create(transport)
    assert len(toy.requests) == 1


def test_a_create_refused_with_429_is_retried(toy: Simulation, transport: Transport) -> None:
    toy.inject(status=429, times=1, headers={"Retry-After": "0"}, method="POST")
    assert create(transport)["id"] == "t1"
    assert len(_toy(toy).tasks) == 1


def test_a_create_answered_503_is_not_retried(toy: Simulation, transport: Transport) -> None:
    toy.inject(status=503, times=1, method="POST")
    with pytest.raises(VendorUnavailable) as info:
        create(transport)
    assert not isinstance(info.value, OutcomeUnknown)
    assert len(toy.requests) == 1


def test_a_create_answered_502_has_an_unknown_outcome(
    toy: Simulation, transport: Transport
) -> None:
    toy.inject(status=502, times=1, method="POST")
    with pytest.raises(OutcomeUnknown):
        create(transport)
    assert len(toy.requests) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retried_even_for_a_create(caplog: pytest.LogCaptureFixture) -> None:
    t = make(f"http://127.0.0.1:{_closed_port()}/v1", max_retries=2)
    with caplog.at_level(logging.DEBUG, logger="taskhub"), pytest.raises(VendorUnavailable) as info:
        create(t)
    assert not isinstance(info.value, OutcomeUnknown)
    assert "could not connect" in str(info.value)
    assert sum("connection failed" in r.getMessage() for r in caplog.records) == 3


@pytest.mark.parametrize(
    ("path", "method", "cls", "status"),
    [
        ("/tasks/t404", "GET", TaskNotFound, 404),
        ("/tasks/t1/cancel", "POST", Conflict, 409),
    ],
)
def test_http_errors_map_to_the_tree_with_vendor_details(
    toy: Simulation,
    transport: Transport,
    path: str,
    method: str,
    cls: type[TaskhubError],
    status: int,
) -> None:
    create(transport)
    toy.clock.advance(10)  # t1 is done, so cancelling it conflicts
    with pytest.raises(cls) as info:
        transport.request(method, path, operation="op", json={} if method == "POST" else None)
    error = info.value
    assert (error.vendor, error.operation, error.http_status) == ("toy", "op", status)
    assert error.code == f"E{status}"
    assert error.request_id
    assert error.request_id.startswith("req-")
    assert f"request id {error.request_id}" in str(error)


def test_bad_credentials_are_auth_error(toy: Simulation) -> None:
    t = Transport(
        vendor="toy",
        base_url=toy.url,
        options=ToyOptions(token="x", base_url=toy.url),
        headers={"Authorization": "Bearer wrong-token-value"},
        error_info=_error_info,
    )
    with pytest.raises(AuthError) as info:
        t.request("GET", "/tasks", operation="list")
    assert info.value.http_status == 401
    assert "wrong-token-value" not in str(info.value)


def test_a_malformed_body_is_malformed_response(toy: Simulation, transport: Transport) -> None:
    toy.inject("malformed", times=1)
    with pytest.raises(MalformedResponse, match="expected JSON"):
        transport.request_json("GET", "/tasks", operation="list")


def test_a_vendor_check_hook_can_ask_for_a_retry(toy: Simulation) -> None:
    calls = []

    def check(response: requests.Response, operation: str) -> None:
        calls.append(operation)
        if len(calls) == 1:
            raise VendorUnavailable("busy, says the body", vendor="toy", operation=operation)

    t = make(toy)
    t.check = check
    t.request("GET", "/tasks", operation="list")
    assert calls == ["list", "list"]


def test_timeouts_are_always_set(
    toy: Simulation, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    real = transport.session.request

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["timeout"])
        return real(*args, **kwargs)

    monkeypatch.setattr(transport.session, "request", spy)
    transport.request("GET", "/tasks", operation="list")
    assert seen == [(5.0, 2)]


def test_logs_show_method_redacted_url_status_attempt_and_time(
    toy: Simulation, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    secret_uri = "https://b.s3.amazonaws.com/x.mp4?X-Amz-Signature=sig0123456789"
    with caplog.at_level(logging.DEBUG, logger="taskhub"):
        transport.request(
            "GET",
            "/tasks",
            operation="list",
            params={"key": "query-key-0123456789", "next": secret_uri},
        )
    text = caplog.text
    assert "GET http://127.0.0.1" in text
    assert "-> 200 attempt=1 elapsed=" in text
    assert "query-key-0123456789" not in text
    assert "sig0123456789" not in text
    assert TOKEN not in text


def test_a_secret_echoed_in_a_vendor_error_is_scrubbed(
    toy: Simulation, transport: Transport
) -> None:
    toy.inject(status=400, body={"error": {"code": "bad", "message": f"token {TOKEN} is odd"}})
    with pytest.raises(InvalidRequest) as info:
        transport.request("GET", "/tasks", operation="list")
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)


def test_default_error_info_reads_common_shapes() -> None:
    from taskhub.http import default_error_info

    def response(body: bytes) -> requests.Response:
        r = requests.Response()
        r._content = body
        r.status_code = 400
        return r

    assert default_error_info(response(b'{"errors":["not found"]}')) == ErrorInfo("not found")
    assert default_error_info(response(b'{"error":{"code":404,"message":"gone"}}')) == ErrorInfo(
        "gone", "404"
    )
    assert default_error_info(response(b"<html>oops</html>")).message == "<html>oops</html>"


def test_proxy_and_ca_environment_are_read_once_when_the_hub_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not really a bundle")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    t = make("https://api.example.com/v1")
    assert t.session.proxies.get("https") == "http://proxy.internal:3128"
    assert t.session.verify == str(bundle)
    assert t.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert make("https://api.example.com/v1").session.proxies == {}


def _toy(sim: Simulation) -> ToySimulator:
    """The toy simulator behind ``sim``, typed."""
    assert isinstance(sim.simulator, ToySimulator)
    return sim.simulator
