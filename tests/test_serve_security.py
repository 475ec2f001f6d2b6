"""``taskhub serve`` against hostile clients (issue 19, findings 3-6 and 10), on the real
waitress server with the service's own limits: request limits, slow clients, security
headers, the Host allow-list, token rules, and 4xx (never 500) for every bad request."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub import State
from taskhub.errors import ConfigError
from taskhub.model import Status, Task
from taskhub.serve import Served, build, run
from taskhub.store import StoreTracker
from tests.serving import fetch, serving
from tests.store.services import pg_server, pg_url  # noqa: F401 (fixtures)

TOKEN = "k7-Qz_operator-TOKEN-0123456789"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = build({}, f"sqlite:///{tmp_path / 'sec.db'}")
    yield s
    s.close()


@pytest.fixture
def address(served: Served) -> Iterator[str]:
    with serving(served.app) as found:
        yield found


# -- finding 5: security headers ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/tasks", "/api/counts", "/healthz", "/nope"])
def test_every_answer_carries_the_security_headers(address: str, path: str) -> None:
    status, headers, _ = fetch(address, path)
    assert status in (200, 404)
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_the_page_allows_only_its_own_script_and_style(address: str) -> None:
    _, headers, body = fetch(address, "/")
    policy = headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    page = body.decode()
    assert f'<script nonce="{nonce}">' in page and f'<style nonce="{nonce}">' in page
    assert page.count("<script") == 1 and "default-src 'none'" in policy
    again = fetch(address, "/")[1]["Content-Security-Policy"]
    assert again != policy  # a fresh nonce every time


# -- finding 4: the Host allow-list --------------------------------------------------------------


def test_a_request_naming_another_host_is_misdirected(served: Served, address: str) -> None:
    """A DNS-rebinding page reaches the service under its own name: refused."""
    status, _, body = fetch(address, "/api/tasks", headers={"Host": "evil.example:8765"})
    assert status == 421
    assert "evil.example" in json.loads(body)["error"]
    for host in ("localhost", f"127.0.0.1:{address.split(':')[1]}", "[::1]:80"):
        assert fetch(address, "/api/tasks", headers={"Host": host})[0] == 200
    served.app.access = type(served.app.access)(hosts=["dash.example"])
    assert fetch(address, "/api/tasks", headers={"Host": "dash.example:443"})[0] == 200


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConfigError, match="--insecure-no-token") as info:
        run(None, db=db, host="0.0.0.0", port=0)
    assert "TASKHUB_SERVE_TOKEN" in str(info.value)
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("weak", ["s3cret", "aaaaaaaaaaaaaaaaaaaaaaaa", "0123456"])
def test_a_weak_token_is_refused_without_showing_it(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigError, match="at least 16 characters") as info:
        run(None, db=f"sqlite:///{tmp_path / 'x.db'}", token=weak, port=0)
    assert weak not in str(info.value)


def test_a_port_in_use_names_it_and_makes_no_store(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as info:
            run(None, db=f"sqlite:///{tmp_path / 'x.db'}", port=port)
    assert f"127.0.0.1:{port}" in str(info.value) and "--port" in str(info.value)
    assert list(tmp_path.iterdir()) == []


# -- finding 6: 4xx, never 500 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/tasks?limit=" + "9" * 5000,
        "/api/tasks?backend=a%00b",
        "/api/tasks?vendor=" + "v" * 5000,
        "/api/tasks?q=%01",
        "/api/tasks/media%3Aa%00b",
        "/api/tasks/media%3A%FF%FE",
        "/api/tasks/" + "x" * 5000,
        "/api/tasks?cursor=%%%",
        "/api/tasks?created_after=yesterday",
        "/api/counts?level=galaxy",
    ],
)
def test_bad_requests_are_400_with_a_message(address: str, path: str) -> None:
    status, _, body = fetch(address, path)
    assert status == 400, body[:300]
    assert json.loads(body)["error"]


def test_a_non_ascii_id_is_found(served: Served, address: str) -> None:
    task = Task("toy", "toy", "café-ünï", Status(State.RUNNING, "running"))
    StoreTracker(served.store, lookup=False).observe(task)
    assert served.store.flush(10)
    status, _, body = fetch(address, "/api/tasks/" + quote("toy:café-ünï", safe=""))
    assert status == 200
    assert json.loads(body)["id"] == "café-ünï"


def test_a_quarantined_observation_is_counted_in_the_metrics(served: Served, address: str) -> None:
    poisoned = Task("media", "livepeer", "i" * 400, Status(State.RUNNING, "running"))
    good = Task("media", "livepeer", "fine", Status(State.RUNNING, "running"))
    tracker = StoreTracker(served.store, lookup=False)
    tracker.observe(poisoned)
    tracker.observe(good)
    assert served.store.flush(10)
    _, _, metrics = fetch(address, "/metrics")
    assert 'taskhub_store_quarantined_total{backend="media"} 1.0' in metrics.decode()
    assert 'taskhub_tasks{backend="media",state="running",vendor="livepeer"} 1.0' in (
        metrics.decode()
    )
    status, _, health = fetch(address, "/healthz")
    assert status == 200, health


# -- finding 3: bodies, slow clients, bounded payloads ---------------------------------------------


def test_a_huge_chunked_body_is_refused_before_it_is_read(address: str) -> None:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /webhooks/any HTTP/1.1\r\nHost: localhost\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        )
        chunk = b"x" * 65536
        sent = 0
        answer = b""
        with contextlib.suppress(OSError):
            while sent < 64 << 20 and not answer:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    answer = sock.recv(4096)
                sock.setblocking(True)
        if not answer:
            sock.settimeout(10)
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < 8 << 20  # refused after about the cap, not after 64 MiB


def test_healthz_answers_while_slow_clients_drip(address: str) -> None:
    host, port = address.split(":")
    slow: list[socket.socket] = []
    try:
        for _ in range(150):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\n")
            slow.append(sock)
        for sock in slow:
            with contextlib.suppress(OSError):
                sock.sendall(b"X-Drip: 1\r\n")
        status, _, body = fetch(address, "/healthz")
        assert status == 200, body
    finally:
        for sock in slow:
            sock.close()


def test_a_huge_vendor_message_is_bounded_on_the_page_and_the_api(
    served: Served, address: str
) -> None:
    from taskhub.adapters.livepeer.adapter import LivepeerAdapter, LivepeerOptions

    adapter = LivepeerAdapter(LivepeerOptions(api_key="k" * 20), backend="media")
    payload = {
        "id": "0c4f7d2e-1111-4000-8000-000000000001",
        "type": "upload",
        "createdAt": 1_700_000_000_000,
        "status": {"phase": "failed", "updatedAt": 1_700_000_001_000,
                   "errorMessage": "boom " * 240_000},
    }  # fmt: skip
    task = adapter.parse(payload)
    assert len(task.status.message or "") <= 4000
    StoreTracker(served.store, lookup=False).observe(task)
    assert served.store.flush(10)
    _, _, listing = fetch(address, "/api/tasks")
    row = json.loads(listing)["tasks"][0]
    assert len(row["status"]["message"]) <= 500
    _, _, page = fetch(address, "/")
    assert len(page) < 100_000
    adapter.close()


def test_the_request_deadline_closes_a_dripping_connection(served: Served) -> None:
    """However slowly it drips, a request must arrive whole within the deadline (1 s here,
    15 s in taskhub serve): waitress's own timeout counts only silence."""
    deadline = 1.0
    with (
        serving(served.app, threads=2, request_seconds=deadline) as address,
        socket.create_connection(_host_port(address), timeout=deadline + 10) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < deadline + 8:
            try:
                sock.sendall(b"X-Drip: 1\r\n")
                sock.settimeout(1.0)
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
    assert closed


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.split(":")
    return host, int(port)


# -- finding 6 on PostgreSQL: webhooks ---------------------------------------------------------


WEBHOOK_SECRET = "whsec-security-test"


@pytest.fixture(params=["sqlite", "postgresql"])
def webhooks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A service taking Livepeer webhooks, on SQLite and on a real PostgreSQL."""
    from taskhub.testing import simulate

    db = (
        f"sqlite:///{tmp_path / 'wh.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    with simulate("livepeer") as sim:
        hub = sim.connect()
        served = build({"livepeer": hub}, db, secrets={"livepeer": WEBHOOK_SECRET}, start=False)
        try:
            with serving(served.app) as address:
                yield address
        finally:
            served.close()
            hub.close()


def _signed(body: bytes) -> dict[str, str]:
    from taskhub.adapters.livepeer import sign

    return {"Livepeer-Signature": sign(body, WEBHOOK_SECRET, int(time.time() * 1000))}


def test_a_deeply_nested_signed_delivery_is_400(webhooks: str) -> None:
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    status, _, answer = fetch(
        webhooks, "/webhooks/livepeer", method="POST", body=body, headers=_signed(body)
    )
    assert status == 400, answer[:200]
    assert "malformed" in json.loads(answer)["error"]


def test_a_long_event_id_is_taken_once(webhooks: str) -> None:
    now = int(time.time() * 1000)
    body = json.dumps({
        "id": "e" * 300, "webhookId": "w-1", "createdAt": now, "timestamp": now,
        "event": "task.updated",
        "payload": {"task": {"id": "0c4f7d2e-2222-4000-8000-000000000002", "type": "upload",
                             "snapshot": {"id": "0c4f7d2e-2222-4000-8000-000000000002",
                                          "type": "upload", "createdAt": now - 1000,
                                          "status": {"phase": "running", "updatedAt": now}}}},
    }).encode()  # fmt: skip
    first = fetch(webhooks, "/webhooks/livepeer", method="POST", body=body, headers=_signed(body))
    assert first[0] == 202, first[2][:300]
    again = fetch(webhooks, "/webhooks/livepeer", method="POST", body=body, headers=_signed(body))
    assert again[0] == 409


def test_a_verified_delivery_refreshes_its_task_at_once(tmp_path: Path) -> None:
    """Issue 20, finding 5: a delivery may carry less than a read, so the service reads the
    task again at once instead of at its next cycle (30 s away here)."""
    from taskhub.testing import simulate

    with simulate("livepeer") as sim:
        with sim.connect() as elsewhere:
            task = elsewhere.submit(kind="upload", url="https://media.example/in.mp4", name="in")
        hub = sim.connect(poll_interval=30, poll_max=30)
        served = build(
            {"livepeer": hub},
            f"sqlite:///{tmp_path / 'wh.db'}",
            secrets={"livepeer": WEBHOOK_SECRET},
            discover_every=3600,
        )
        try:
            deadline = time.monotonic() + 10
            while served.service.followed("livepeer") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert served.service.followed("livepeer") == 1
            before = len(sim.requests)
            now = int(time.time() * 1000)
            body = json.dumps({
                "id": "evt-refresh-1", "webhookId": "w-1", "createdAt": now, "timestamp": now,
                "event": "task.updated",
                "payload": {"task": {"id": task.id, "type": "upload", "snapshot": {
                    "id": task.id, "type": "upload", "createdAt": now - 1000,
                    "status": {"phase": "running", "updatedAt": now}}}},
            }).encode()  # fmt: skip
            with serving(served.app) as address:
                status, _, answer = fetch(
                    address, "/webhooks/livepeer", method="POST", body=body, headers=_signed(body)
                )
                assert status == 202, answer
                deadline = time.monotonic() + 5
                read = False
                while not read and time.monotonic() < deadline:
                    read = any(
                        r.method == "GET" and task.id in r.path for r in sim.requests[before:]
                    )
                    time.sleep(0.05)
            assert read, "the task was not read again after its delivery"
        finally:
            served.close()
            hub.close()


def test_the_stop_line_says_what_was_written_and_what_was_not() -> None:
    from taskhub.serve.server import summary
    from taskhub.store import Tally

    clean = summary(Tally(written=40, transitions=30, refused=1, quarantined=0, unwritten=0))
    assert clean == "30 transitions written (40 observations); everything heard is recorded"
    lost = Tally(written=4_000, transitions=3_000, refused=0, quarantined=2, unwritten=17)
    said = summary(lost)
    assert lost.lost and "2 quarantined" in said and "17 observations NOT written" in said
