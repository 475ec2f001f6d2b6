"""taskhub against hostile servers: one test (or more) per finding of the trust review.

Every server here is tests/hostile.py on 127.0.0.1: it redirects to a second "evil" origin and
records what reached it, drips its answers a byte at a time, inflates gzip bombs, nests JSON
without end, repeats its paging cursors. The finding each test holds is in its name (f1 …
f12, as numbered in docs/security.md). No test asserts a wall-clock time: a call that the
deadline does not end would run into the fixture's own cap and fail on its error type.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskhub
from taskhub import (
    DeadlineExceeded,
    DownloadError,
    InvalidRequest,
    MalformedResponse,
    OriginRefused,
    OutcomeUnknown,
    RateLimited,
    ResponseTooLarge,
    TaskHub,
    VendorUnavailable,
)
from taskhub.download import download

from .hostile import Answer, HostileServer

KEY = "k3y-" + "x" * 28
SECRET = "client-secret-value-42"
LP_TASK = {
    "id": "abc",
    "type": "upload",
    "createdAt": 1_700_000_000_000,
    "status": {"phase": "running", "updatedAt": 1_700_000_000_000},
}


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with HostileServer(cap=20) as server:
        yield server


@pytest.fixture
def evil() -> Iterator[HostileServer]:
    with HostileServer(cap=20) as server:
        server.fallback = Answer.json({"stolen": True})
        yield server


def livepeer(srv: HostileServer, **options: Any) -> TaskHub:
    hub: TaskHub = taskhub.connect(
        "livepeer", api_key=KEY, base_url=f"{srv.url}/api", **{"max_retries": 0, **options}
    )
    return hub


def chain(error: BaseException) -> list[BaseException]:
    """``error`` and everything reachable from it through __cause__ and __context__."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def shows(error: BaseException, secret: str) -> bool:
    return any(secret in f"{e!s} {e!r} {e.args!r}" for e in chain(error))


# -- f1: credentials leave their origin ------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "options", "task_id", "path"),
    [
        ("veritone-edge", {"api_key": KEY}, "j1", "/proc/job/j1/detail"),
        ("vionlabs", {"api_key": KEY, "auth": "header"}, "m/markers/1", None),
        ("vionlabs", {"api_key": KEY, "auth": "query"}, "m/markers/1", None),
        ("livepeer", {"api_key": KEY}, "abc", "/task/abc"),
    ],
)
def test_f1_a_redirect_to_another_origin_carries_no_credential(
    srv: HostileServer,
    evil: HostileServer,
    vendor: str,
    options: dict[str, Any],
    task_id: str,
    path: str | None,
) -> None:
    base = f"{srv.url}/api" if vendor == "livepeer" else srv.url
    srv.fallback = Answer.redirect(f"{evil.url}/steal", status=302)
    hub = taskhub.connect(vendor, base_url=base, max_retries=0, **options)
    with hub, pytest.raises(OriginRefused) as info:
        hub.get(task_id)
    assert evil.requests == []
    assert len(srv.requests) == 1
    assert KEY not in str(info.value)


def test_f1_a_307_on_a_create_does_not_send_the_body_elsewhere(
    srv: HostileServer, evil: HostileServer
) -> None:
    srv.route("POST", "/api/transcode", Answer.redirect(f"{evil.url}/transcode", status=307))
    with livepeer(srv) as hub, pytest.raises(OriginRefused):
        hub.submit(
            kind="transcode-file",
            input={"url": "https://in.example/a.mp4"},
            storage={"type": "s3", "url": "s3+https://AKIA:s3cret@storage.example/out"},
            outputs={"hls": {"path": "/hls"}},
        )
    assert evil.requests == []


def test_f1_an_https_to_http_redirect_is_refused(
    monkeypatch: pytest.MonkeyPatch, evil: HostileServer
) -> None:
    with HostileServer(cap=20, tls=True) as secure:
        assert secure.ca_file is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", secure.ca_file)
        secure.fallback = Answer.redirect(f"http://127.0.0.1:{secure.port}/api/task/abc")
        with livepeer(secure) as hub, pytest.raises(OriginRefused):
            hub.get("abc")
        assert len(secure.requests) == 1


def test_f1_the_oauth_secret_is_not_redirected(srv: HostileServer, evil: HostileServer) -> None:
    srv.route("POST", "/oauth2/token", Answer.redirect(f"{evil.url}/token", status=307))
    hub = taskhub.connect(
        "cognite",
        base_url=srv.url,
        project="p",
        client_id="c",
        client_secret=SECRET,
        token_url=f"{srv.url}/oauth2/token",
        max_retries=0,
    )
    with hub, pytest.raises(OriginRefused) as info:
        hub.get("6a1f0c3e-2b7d-4e58-9a41-3c5d7e9f1b20")
    assert evil.requests == []
    assert not shows(info.value, SECRET)


def test_f1_a_paging_link_to_another_host_is_not_followed(
    srv: HostileServer, evil: HostileServer
) -> None:
    link = f'<{evil.url}/api/task?limit=5&cursor=x>; rel="next"'
    srv.route("GET", "/api/task", Answer.json([LP_TASK], headers={"Link": link}), prefix=True)
    with livepeer(srv) as hub, pytest.raises(OriginRefused):
        list(hub.list(limit=5, state="succeeded"))
    assert evil.requests == []


# -- f2: secrets in output ---------------------------------------------------------------------


def test_f2_urllib3_debug_lines_show_no_query_key(
    srv: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    srv.fallback = Answer.json({"status": "processing"})
    with (
        caplog.at_level(logging.DEBUG),
        taskhub.connect(
            "vionlabs", api_key=KEY, base_url=srv.url, auth="query", max_retries=0
        ) as hub,
    ):
        hub.get("m/markers/1")
    assert "key=" in srv.requests[0].path  # the key did travel, as the vendor wants
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    assert KEY not in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_f2_a_signed_download_uri_is_not_logged(
    srv: HostileServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    srv.fallback = Answer.status(200, b"media")
    url = f"{srv.url}/o.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=fe11edc0ffee"
    with caplog.at_level(logging.DEBUG):
        download(url, tmp_path)
    assert "fe11edc0ffee" not in caplog.text


def test_f2_no_raw_exception_with_the_url_is_reachable(srv: HostileServer) -> None:
    srv.fallback = Answer.drop()
    hub = taskhub.connect("vionlabs", api_key=KEY, base_url=srv.url, auth="query", max_retries=0)
    with hub, pytest.raises(VendorUnavailable) as info:
        hub.get("m/markers/1")
    assert not shows(info.value, KEY)


def test_f2_ls_and_get_json_mask_storage_credentials_and_signatures() -> None:
    task = taskhub.parse(
        "livepeer",
        {
            **LP_TASK,
            "type": "transcode-file",
            "params": {
                "transcode-file": {
                    "storage": {"credentials": {"accessKeyId": "A", "secretAccessKey": "wJalrX"}},
                    "input": {"url": "https://b.s3.example/in.mp4?X-Amz-Signature=beefcafe"},
                }
            },
        },
    )
    from taskhub.cli import display

    for shown in (display.as_json([task]), json.dumps(task.to_dict()), repr(task)):
        assert "wJalrX" not in shown
        assert "beefcafe" not in shown


# -- f3: a deadline per call -------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        Answer.drip(status=200, body=b'{"id": "abc"}', every=0.05, phase="headers", forever=True),
        Answer.drip(status=200, body=b'{"id": "abc"}', every=0.05, phase="body", forever=True),
        Answer.drip(
            status=200, body=b'{"id": "abc"}', every=0.05, phase="body", forever=True, chunked=True
        ),
    ],
    ids=["headers", "body", "chunked"],
)
def test_f3_a_drip_feeding_server_is_cut_at_the_deadline(
    srv: HostileServer, answer: Answer
) -> None:
    srv.fallback = answer
    with livepeer(srv, deadline=1.0, timeout=0.5) as hub, pytest.raises(DeadlineExceeded) as info:
        hub.get("abc")
    assert info.value.deadline == 1.0
    assert isinstance(info.value, TimeoutError)


def test_f3_a_drip_fed_download_is_cut_at_its_deadline(srv: HostileServer, tmp_path: Path) -> None:
    srv.fallback = Answer.drip(status=200, body=b"x" * 100, every=0.05, phase="body", forever=True)
    with pytest.raises(DownloadError) as info:
        download(f"{srv.url}/big.mp4", tmp_path, deadline=1.0, timeout=0.5)
    assert info.value.reason == "timeout"
    assert list(tmp_path.iterdir()) == []


def test_f3_a_retry_after_longer_than_what_is_left_gives_up_at_once(srv: HostileServer) -> None:
    srv.fallback = Answer.status(429, b"slow down", headers={"Retry-After": "30"})
    with livepeer(srv, max_retries=5, max_retry_time=10) as hub, pytest.raises(RateLimited) as info:
        hub.get("abc")
    assert info.value.retry_after == 30
    assert len(srv.requests) == 1


def test_f3_no_retry_starts_past_max_retry_time(srv: HostileServer) -> None:
    srv.fallback = Answer.status(503, b"busy", headers={"Retry-After": "0.4"})
    with livepeer(srv, max_retries=50, max_retry_time=1.0) as hub, pytest.raises(VendorUnavailable):
        hub.get("abc")
    assert 2 <= len(srv.requests) <= 3  # waits of 0.4 s fit twice into 1 s, never 50 times


# -- f4: a memory bound on API answers -------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        Answer.gzip_bomb(inflated=1 << 30),
        Answer.huge(64 * 1024 * 1024),
        Answer.huge(64 * 1024 * 1024, chunked=True),
    ],
    ids=["gzip-bomb", "huge", "huge-chunked"],
)
def test_f4_an_oversized_answer_is_refused_while_streaming(
    srv: HostileServer, answer: Answer
) -> None:
    srv.fallback = answer
    with (
        livepeer(srv, max_response_bytes=1_000_000) as hub,
        pytest.raises(ResponseTooLarge) as info,
    ):
        hub.get("abc")
    assert info.value.limit == 1_000_000


# -- f5: ids steer the request path ------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "options", "task_id"),
    [
        ("livepeer", {"api_key": KEY}, "../asset/abc"),
        ("livepeer", {"api_key": KEY}, "abc?x=1"),
        ("veritone-edge", {"api_key": KEY}, "j1/../../x"),
        ("veritone-edge", {"api_key": KEY}, "j1#frag"),
        ("veritone-edge", {"api_key": KEY}, "j1%2Fx"),
        ("vionlabs", {"api_key": KEY}, "m/markers/1?x=y"),
        ("vionlabs", {"api_key": KEY}, "../markers/1"),
        ("cognite", {"token": KEY, "project": "p"}, "x" * 100_000),
    ],
)
def test_f5_an_id_that_would_steer_the_request_is_refused_before_sending(
    srv: HostileServer, vendor: str, options: dict[str, Any], task_id: str
) -> None:
    hub = taskhub.connect(vendor, base_url=srv.url, **options)
    with hub, pytest.raises(InvalidRequest) as info:
        hub.get(task_id)
    assert info.value.field == "task_id"
    assert srv.requests == []


# -- f6: paging never stops ----------------------------------------------------------------------


def test_f6_a_repeated_next_link_ends_the_walk(srv: HostileServer) -> None:
    link = f'<{srv.url}/api/task?limit=1&cursor=same>; rel="next"'
    srv.route_prefix("GET", "/api/task", Answer.json([LP_TASK], headers={"Link": link}))
    with livepeer(srv) as hub, pytest.raises(MalformedResponse, match="same cursor or link"):
        list(hub.list(limit=5, state="succeeded"))
    assert len(srv.requests) == 2


def test_f6_a_repeated_next_cursor_ends_the_walk(srv: HostileServer) -> None:
    page = {"items": [], "nextCursor": "again"}
    srv.route_prefix("POST", "/api/v1/projects/p/workflows/executions/list", Answer.json(page))
    hub = taskhub.connect("cognite", base_url=srv.url, project="p", token=KEY, max_retries=0)
    with hub, pytest.raises(MalformedResponse, match="empty page"):
        list(hub.list(limit=5))
    assert len(srv.requests) == 1


def test_f6_a_walk_has_a_page_ceiling(srv: HostileServer) -> None:
    counter = iter(range(10_000))

    def next_page(_: object) -> Answer:
        n = next(counter)
        item = {**LP_TASK, "id": f"t{n}"}
        link = f'<{srv.url}/api/task?cursor=c{n}>; rel="next"'
        return Answer.json([item], headers={"Link": link})

    srv.route_prefix("GET", "/api/task", Answer.callable(next_page))
    with livepeer(srv, max_pages=20) as hub, pytest.raises(MalformedResponse, match="max_pages"):
        list(hub.list(state="succeeded"))
    assert len(srv.requests) == 20


# -- f9: untyped exceptions --------------------------------------------------------------------


def test_f9_deep_json_on_a_create_is_outcome_unknown_with_a_lookup(srv: HostileServer) -> None:
    srv.route("POST", "/api/asset/upload/url", Answer.deep_json(depth=100_000))
    with livepeer(srv) as hub, pytest.raises(OutcomeUnknown) as info:
        hub.submit(kind="upload", url="https://in.example/a.mp4", name="a")
    assert info.value.lookup
    assert "nested deeper" in str(info.value)


def test_f9_deep_json_on_a_read_is_malformed(srv: HostileServer) -> None:
    srv.fallback = Answer.deep_json(depth=100_000, kind="object")
    with livepeer(srv) as hub, pytest.raises(MalformedResponse, match="nested deeper"):
        hub.get("abc")


@pytest.mark.parametrize(
    "value", ["Fri, 31 Dec 9999 23:59:59 GMT", "1e999", "nan", "-5", "99999999999999999999"]
)
def test_f9_any_retry_after_is_a_number_of_seconds(srv: HostileServer, value: str) -> None:
    srv.fallback = Answer.status(429, b"slow", headers={"Retry-After": value})
    with livepeer(srv, max_retries=0) as hub, pytest.raises(RateLimited) as info:
        hub.get("abc")
    wait = info.value.retry_after
    assert wait is None or 0 <= wait <= 1e6


@pytest.mark.parametrize(
    ("location", "reason"),
    [("ftp://127.0.0.1/x", "unsafe_redirect"), ("/loop", "unsafe_redirect")],
)
def test_f9_a_bad_download_redirect_is_a_download_error(
    srv: HostileServer, tmp_path: Path, location: str, reason: str
) -> None:
    srv.fallback = Answer.redirect(f"{location}?X-Amz-Signature=5ec4e7")
    with pytest.raises(DownloadError) as info:
        download(f"{srv.url}/a.mp4?X-Amz-Signature=5ec4e7", tmp_path)
    assert info.value.reason == reason
    assert not shows(info.value, "5ec4e7")


@pytest.mark.parametrize("url", ["not a url", "file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_f9_a_download_url_that_is_not_http_is_a_download_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(DownloadError):
        download(url, tmp_path)


# -- f11: dependency floors, downloads through the hub's session ----------------------------


def test_f11_the_floors_exclude_the_versions_with_advisories() -> None:
    import requests
    from packaging.version import Version

    text = (Path(__file__).parent.parent / "setup.cfg").read_text()
    assert "requests>=2.33.0" in text  # .netrc and proxy-credential leaks, temp-file reuse
    assert "urllib3>=2.7.0" in text  # decompression bombs, cross-origin header leaks
    assert Version(requests.__version__) >= Version("2.33.0")
    assert Version(importlib.metadata.version("urllib3")) >= Version("2.7.0")


def test_f11_netrc_credentials_are_never_sent(
    srv: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login me password netrc-pass-123\n")
    os.chmod(home / ".netrc", 0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(home / ".netrc"))
    srv.fallback = Answer.status(200, b"media")
    out = tmp_path / "out"
    out.mkdir()
    download(f"{srv.url}/a.mp4", out)
    with livepeer(srv) as hub:
        hub.adapter.transport.request("GET", "/task/abc", operation="get")
        stream = hub.adapter.transport.stream(f"{srv.url}/b.mp4", operation="download", deadline=5)
        with stream as response:
            assert b"".join(response.chunks(1024)) == b"media"
    for request in srv.requests:
        assert "netrc-pass" not in json.dumps(request.headers)
        assert "bWU6bmV0cmMtcGFzcy0xMjM" not in json.dumps(request.headers)  # base64 of it


def test_f11_a_download_from_another_origin_gets_no_api_credential(
    srv: HostileServer, evil: HostileServer, tmp_path: Path
) -> None:
    evil.fallback = Answer.status(200, b"media")
    srv.fallback = Answer.redirect(f"{evil.url}/signed.mp4?X-Amz-Signature=abc", status=302)
    with livepeer(srv) as hub:
        transport = hub.adapter.transport
        path = download(f"{srv.url}/api/out.mp4", tmp_path, transport=transport)
    assert path.read_bytes() == b"media"
    assert "authorization" in srv.requests[0].headers  # the API's own origin gets the key
    assert "authorization" not in evil.requests[0].headers  # the storage host does not


# -- f12: smaller ------------------------------------------------------------------------------


def test_f12_a_download_never_writes_through_a_symlink(srv: HostileServer, tmp_path: Path) -> None:
    srv.fallback = Answer.status(200, b"attacker bytes")
    target = tmp_path / "out"
    target.mkdir()
    precious = target / "precious.txt"
    precious.write_text("keep me")
    (target / "a.mp4").symlink_to(precious)
    with pytest.raises(DownloadError) as info:
        download(f"{srv.url}/a.mp4", target, name="a.mp4")
    assert info.value.reason == "unsafe_name"
    assert precious.read_text() == "keep me"
