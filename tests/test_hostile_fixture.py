"""The hostile server itself behaves as documented (plain sockets and http.client, no taskhub)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator

import pytest

from tests.hostile import Answer, HostileServer, Recorded


def _hostile_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hostile-")]


@pytest.fixture(autouse=True)
def _no_thread_left() -> Iterator[None]:
    yield
    assert _hostile_threads() == []


def _connect(srv: HostileServer, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)


def _raw(srv: HostileServer, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    sock.sendall(request)
    return sock


def test_records_requests_and_routes_exact_prefix_and_fallback() -> None:
    with HostileServer() as srv:
        srv.route("POST", "/api/task", Answer.json({"id": "abc"}, status=201))
        srv.route_prefix("GET", "/api/", Answer.status(200, b"prefix"))
        srv.route("GET", "/api/task/abc", Answer.json({"id": "abc"}))
        conn = _connect(srv)
        conn.request("POST", "/api/task?x=1", body=b'{"a": 1}', headers={"X-API-Key": "k"})
        first = conn.getresponse()
        assert (first.status, json.loads(first.read())) == (201, {"id": "abc"})
        conn.request("GET", "/api/task/abc")  # same connection: keep-alive works
        assert conn.getresponse().read() == b'{"id": "abc"}'
        conn.request("GET", "/api/other")
        assert conn.getresponse().read() == b"prefix"
        conn.request("GET", "/elsewhere")
        assert conn.getresponse().status == 404
        conn.close()
    posted = srv.requests[0]
    assert (posted.method, posted.path, posted.path_only) == ("POST", "/api/task?x=1", "/api/task")
    assert posted.query == {"x": ["1"]}
    assert posted.headers["x-api-key"] == "k"
    assert posted.json() == {"a": 1}
    assert [r.path for r in srv.requests[1:]] == ["/api/task/abc", "/api/other", "/elsewhere"]
    assert srv.requests[0].at <= srv.requests[-1].at


def test_sequence_repeats_its_last_answer_and_callable_sees_the_request() -> None:
    def echo(request: Recorded) -> Answer:
        return Answer.json({"saw": request.headers.get("x-n")})

    with HostileServer(keep_alive=False) as srv:
        srv.route("GET", "/seq", Answer.sequence(Answer.status(503), Answer.json(1)))
        srv.route("GET", "/echo", Answer.callable(echo))
        statuses = []
        for _ in range(3):
            conn = _connect(srv)
            conn.request("GET", "/seq")
            statuses.append(conn.getresponse().status)
            conn.close()
        conn = _connect(srv)
        conn.request("GET", "/echo", headers={"X-N": "7"})
        reply = conn.getresponse()
        assert reply.getheader("Connection") == "close"
        assert json.loads(reply.read()) == {"saw": "7"}
        conn.close()
    assert statuses == [503, 200, 200]


def test_drip_headers_forever_sends_one_byte_per_interval_and_never_ends_the_head() -> None:
    with HostileServer() as srv:
        srv.route("GET", "/slow", Answer.drip(phase="headers", every=0.02, forever=True))
        sock = _raw(srv, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            received += sock.recv(100)
        sock.close()
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\n\r\n" not in received
    assert 5 <= len(received) <= 0.5 / 0.02 + 2  # about one byte per interval, not a burst


def test_drip_body_delivers_the_whole_body_slowly() -> None:
    body = b'{"id": "abc"}'
    with HostileServer() as srv:
        srv.route("GET", "/slow", Answer.drip(body=body, every=0.02, phase="body"))
        srv.route("GET", "/chunked", Answer.drip(body=body, every=0.01, chunked=True))
        conn = _connect(srv)
        started = time.monotonic()
        conn.request("GET", "/slow")
        reply = conn.getresponse()
        assert reply.getheader("Content-Length") == str(len(body))
        assert reply.read() == body
        assert time.monotonic() - started >= len(body) * 0.02 * 0.8
        conn.request("GET", "/chunked")
        chunked = conn.getresponse()
        assert chunked.getheader("Transfer-Encoding") == "chunked"
        assert chunked.read() == body
        conn.close()


def test_drip_body_forever_stays_valid_json_followed_by_spaces() -> None:
    with HostileServer() as srv:
        srv.route("GET", "/s", Answer.drip(body=b"{}", every=0.01, forever=True))
        conn = _connect(srv)
        conn.request("GET", "/s")
        reply = conn.getresponse()
        assert reply.getheader("Content-Length") is None
        assert reply.read(12) == b"{}" + b" " * 10
        conn.close()


def test_gzip_bomb_inflates_to_its_declared_size_from_about_a_megabyte() -> None:
    inflated = 1 << 30
    with HostileServer() as srv:
        srv.route("GET", "/bomb", Answer.gzip_bomb(inflated, prefix=b'{"id": "abc"}', fill=b" "))
        conn = _connect(srv)
        conn.request("GET", "/bomb", headers={"Accept-Encoding": "gzip"})
        reply = conn.getresponse()
        assert reply.getheader("Content-Encoding") == "gzip"
        wire = int(reply.getheader("Content-Length") or 0)
        assert 900_000 < wire < 1_200_000
        inflater = zlib.decompressobj(31)
        total, head, received = 0, b"", 0
        while piece := reply.read(1 << 16):
            received += len(piece)
            while piece:  # bounded output per step: never holds more than 4 MiB decoded
                out = inflater.decompress(piece, 4 << 20)
                head = head or out[:13]
                total += len(out)
                piece = inflater.unconsumed_tail
        total += len(inflater.flush())
        conn.close()
    assert inflater.eof  # the CRC and length in the trailer checked out
    assert (received, total, head) == (wire, inflated, b'{"id": "abc"}')


@pytest.mark.parametrize("chunked", [False, True])
def test_huge_answer_is_exactly_the_size_and_valid_json(chunked: bool) -> None:
    size = 3 * (1 << 20) + 7
    with HostileServer() as srv:
        srv.route("GET", "/huge", Answer.huge(size, chunked=chunked))
        conn = _connect(srv)
        conn.request("GET", "/huge")
        reply = conn.getresponse()
        assert (reply.getheader("Content-Length") is None) is chunked
        body = reply.read()
        conn.close()
    assert len(body) == size
    parsed = json.loads(body)
    assert parsed["id"] == "abc" and len(parsed["pad"]) > 3_000_000


def test_deep_json_is_nested_as_asked() -> None:
    with HostileServer() as srv:
        srv.route("GET", "/deep", Answer.deep_json(depth=1000))
        srv.route("GET", "/obj", Answer.deep_json(depth=3, kind="object"))
        conn = _connect(srv)
        conn.request("GET", "/deep")
        assert conn.getresponse().read() == b"[" * 1000 + b"]" * 1000
        conn.request("GET", "/obj")
        assert json.loads(conn.getresponse().read()) == {"a": {"a": {"a": 1}}}
        conn.close()


def test_redirect_to_a_second_origin_and_what_reaches_it() -> None:
    with HostileServer() as srv, HostileServer() as evil:
        assert srv.port != evil.port
        srv.route("POST", "/x", Answer.redirect(evil.url + "/steal?from=x", status=307))
        evil.route("POST", "/steal", Answer.json({"stolen": True}))
        conn = _connect(srv)
        conn.request("POST", "/x", body=b"secret body", headers={"Authorization": "Bearer t"})
        reply = conn.getresponse()
        reply.read()
        assert reply.status == 307
        location = reply.getheader("Location")
        assert location == f"http://127.0.0.1:{evil.port}/steal?from=x"
        conn.close()
        # a careless client follows it, body and header included
        follow = _connect(evil)
        follow.request("POST", location, body=b"secret body", headers={"Authorization": "Bearer t"})
        assert json.loads(follow.getresponse().read()) == {"stolen": True}
        follow.close()
    assert [r.path for r in srv.requests] == ["/x"]
    assert [(r.path_only, r.body, r.headers["authorization"]) for r in evil.requests] == [
        ("/steal", b"secret body", "Bearer t")
    ]


def test_link_headers_and_lying_lengths_are_sent_verbatim() -> None:
    link = '<http://127.0.0.1:1/page2>; rel="next"'
    with HostileServer() as srv:
        srv.route("GET", "/page", Answer.json([1, 2], headers={"Link": link}))
        srv.route("GET", "/short", Answer.status(200, b"12345", headers={"Content-Length": "99"}))
        conn = _connect(srv)
        conn.request("GET", "/page")
        reply = conn.getresponse()
        assert reply.getheader("Link") == link
        reply.read()
        conn.request("GET", "/short")
        short = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            short.read()
        conn.close()


def test_hang_drop_and_hard_cap_end_connections() -> None:
    with HostileServer(cap=0.5) as srv:
        srv.route("GET", "/hang", Answer.hang())
        srv.route("GET", "/drop", Answer.drop())
        started = time.monotonic()
        hung = _raw(srv, b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        assert hung.recv(10) == b""  # the cap closed it
        assert 0.4 <= time.monotonic() - started < 3
        hung.close()
        dropped = _raw(srv, b"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
        assert dropped.recv(10) == b""
        dropped.close()
    assert [r.path for r in srv.requests] == ["/hang", "/drop"]


def test_exit_is_prompt_with_clients_still_connected() -> None:
    srv = HostileServer()
    with srv:
        srv.route("GET", "/slow", Answer.drip(phase="body", body=b"{}", every=0.5, forever=True))
        idle = socket.create_connection(("127.0.0.1", srv.port))  # connects, never sends
        dripping = _raw(srv, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        dripping.recv(100)  # the head arrived: the handler is now dripping
        assert len(_hostile_threads()) == 3
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert _hostile_threads() == []
    idle.close()
    dripping.close()


def test_a_failing_callable_answer_fails_the_with_block() -> None:
    def broken(request: Recorded) -> Answer:
        raise KeyError("bug in the test's answer")

    srv = HostileServer().__enter__()
    srv.route("GET", "/x", Answer.callable(broken))
    sock = _raw(srv, b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(10) == b""  # the handler died: the connection closed unanswered
    sock.close()
    with pytest.raises(RuntimeError, match="handler failed"):
        srv.__exit__(None, None, None)


def test_oversized_request_heads_are_refused() -> None:
    with HostileServer() as srv:
        conn = _connect(srv)
        conn.request("GET", "/" + "a" * 100_000)  # a 100 KB id still fits
        assert conn.getresponse().status == 404
        conn.close()
        conn = _connect(srv)
        conn.request("GET", "/" + "a" * (2 << 20))
        assert conn.getresponse().status == 431
        conn.close()
    assert len(srv.requests) == 1


def test_https_with_a_certificate_clients_can_verify() -> None:
    with HostileServer(tls=True) as srv:
        assert srv.url.startswith("https://127.0.0.1:") and srv.ca_file is not None
        srv.route("GET", "/t", Answer.json({"tls": True}))
        context = ssl.create_default_context(cafile=srv.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=context, timeout=5)
        conn.request("GET", "/t")
        assert json.loads(conn.getresponse().read()) == {"tls": True}
        conn.close()
        untrusting = http.client.HTTPSConnection(
            "127.0.0.1", srv.port, context=ssl.create_default_context(), timeout=5
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.request("GET", "/t")
        untrusting.close()
    assert [r.path for r in srv.requests] == ["/t"]
