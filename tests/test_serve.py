"""``taskhub serve`` end to end: five simulated vendors followed into a store, the API, the
metrics (parsed, and scraped by a real Prometheus), webhooks, the page in headless Chromium,
and a clean stop on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from prometheus_client.parser import text_string_to_metric_families
from waitress.server import create_server

from taskhub import State
from taskhub.adapters.livepeer import sign
from taskhub.cli.demo import config_text, demo_vendors, simulators
from taskhub.serve import Served, build
from tests.store.services import await_serving, free_port, missing

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "task.schema.json").read_text())
SECRET = "whsec-serve-test"


class Running:
    def __init__(self, served: Served, url: str, sims: dict[str, Any], db: str) -> None:
        self.served, self.url, self.sims, self.db = served, url, sims, db

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return request(self.url + path, headers=headers)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        return request(self.url + path, body=body, headers=headers)


def request(
    url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            status = resp.status
            kind = resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raw, status, kind = exc.read(), exc.code, exc.headers.get("Content-Type", "")
    return status, json.loads(raw) if "json" in kind else raw.decode()


def _run(server: Any) -> None:
    # close() from the test thread can make the loop's select see a closed socket: that is
    # the server stopping, not a failure.
    with contextlib.suppress(OSError):
        server.run()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A demo-like run: one task per vendor submitted through the service's hubs and driven
    to the end, the service following them into a SQLite store, served by waitress."""
    db = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'taskhub.db'}"
    vendors = demo_vendors()
    with simulators(vendors, 20.0) as sims:
        hubs = {v: sims[v].connect(poll_interval=0.1, poll_max=0.25) for v in vendors}
        served = build(hubs, db, secrets={"livepeer": SECRET}, discover_every=0.5)
        server = create_server(served.app, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=_run, args=(server,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
        tasks = {}
        for v in vendors:
            spec = sims[v].simulator.demo_spec()
            assert spec is not None
            tasks[v] = hubs[v].submit(**spec)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rows = {v: served.store.task(t.ref) for v, t in tasks.items()}
            if all(r and State.parse(r["status"]["state"]).terminal for r in rows.values()):
                break
            for v, task in tasks.items():
                row = rows[v]
                if row is None or not State.parse(row["status"]["state"]).terminal:
                    sims[v].simulator.demo_step(hubs[v], hubs[v].get(task.id))
            time.sleep(0.2)
        served.store.flush(10)
        running = Running(served, url, sims, db)
        running.tasks = tasks  # type: ignore[attr-defined]
        yield running
        server.close()
        served.close()


def test_every_vendor_task_is_followed_to_its_end(running: Running) -> None:
    status, data = running.get("/api/tasks?limit=1000")
    assert status == 200
    by_ref = {t["ref"]: t for t in data["tasks"]}
    for task in running.tasks.values():  # type: ignore[attr-defined]
        assert by_ref[task.ref]["status"]["state"] == "succeeded", task.ref
    assert {t["vendor"] for t in data["tasks"]} == set(demo_vendors())
    for task in data["tasks"]:
        jsonschema.validate(task, SCHEMA)
    assert data["total"] == len(data["tasks"])


def test_one_task_and_its_transitions(running: Running) -> None:
    task = running.tasks["livepeer"]  # type: ignore[attr-defined]
    status, one = running.get(f"/api/tasks/{task.ref}")
    assert status == 200
    jsonschema.validate(one, SCHEMA)
    status, history = running.get(f"/api/tasks/{task.ref}/transitions")
    assert status == 200
    steps = history["transitions"]
    assert steps[0]["from"] is None
    assert steps[-1]["to"] == "succeeded"
    assert [s["seq"] for s in steps] == list(range(1, len(steps) + 1))
    assert running.get("/api/tasks/livepeer:nope")[0] == 404


@pytest.mark.parametrize(
    "query",
    [
        "state=bogus",
        "limit=0",
        "limit=1001",
        "limit=x",
        "offset=-1",
        "colour=red",
        "limit=1&limit=2",
    ],
)
def test_bad_filters_are_400_with_a_json_error(running: Running, query: str) -> None:
    status, data = running.get(f"/api/tasks?{query}")
    assert status == 400
    assert isinstance(data["error"], str)
    assert data["status"] == 400


def test_filters_and_paging(running: Running) -> None:
    status, data = running.get("/api/tasks?vendor=cognite&limit=1")
    assert status == 200
    # Units of work only: the execution, not its tasks.
    assert (data["total"], data["exact"]) == (1, True)
    assert len(data["tasks"]) == 1
    assert data["next"] is None
    execution = data["tasks"][0]["ref"]
    status, parts = running.get(f"/api/tasks?parent={execution}&limit=1")
    assert status == 200
    assert parts["total"] >= 1
    assert {t["parent_id"] for t in parts["tasks"]} == {execution.split(":", 1)[1]}
    status, data = running.get("/api/tasks?state=succeeded&backend=vionlabs")
    assert [t["vendor"] for t in data["tasks"]] == ["vionlabs"]


def test_pages_follow_a_cursor_without_gaps_or_repeats(running: Running) -> None:
    status, whole = running.get("/api/tasks?level=all&limit=1000")
    assert status == 200
    seen: list[str] = []
    cursor = ""
    while True:
        status, data = running.get(f"/api/tasks?level=all&limit=2{cursor}")
        assert status == 200
        seen += [t["ref"] for t in data["tasks"]]
        if data["next"] is None:
            break
        cursor = f"&cursor={data['next']}"
    assert seen == [t["ref"] for t in whole["tasks"]]
    assert running.get("/api/tasks?cursor=not-a-cursor")[0] == 400


def test_metrics_parse_and_carry_no_task_ids(running: Running) -> None:
    # One refresher cycle with the metrics listening (the demo-like run may finish its tasks
    # before the service's first cycle, depending on the machine's speed).
    hub = running.served.service.hubs["livepeer"]
    task = running.tasks["livepeer"]  # type: ignore[attr-defined]
    with hub.refresher().follow([task.id]) as sub:
        assert sub.get(timeout=30) is not None
    status, text = running.get("/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    tasks = {
        (s.labels["vendor"], s.labels["state"]): s.value for s in families["taskhub_tasks"].samples
    }
    for vendor in demo_vendors():
        assert tasks[(vendor, "succeeded")] >= 1
    transitions = families["taskhub_transitions"].samples
    assert any(s.labels["to_state"] == "succeeded" for s in transitions)
    assert any(
        s.labels["status_class"] == "2xx" for s in families["taskhub_vendor_requests"].samples
    )
    assert families["taskhub_refresh_cycle_seconds"].samples
    assert families["taskhub_task_duration_seconds"].samples
    assert "taskhub_unknown_status_words" in families
    refs = {t.ref for t in running.tasks.values()}  # type: ignore[attr-defined]
    for family in families.values():
        for sample in family.samples:
            assert not {"ref", "id", "task", "task_id"} & set(sample.labels)
            assert not refs & set(sample.labels.values())


def test_healthz(running: Running) -> None:
    status, data = running.get("/healthz")
    assert status == 200
    assert data["status"] == "ok"
    assert data["store"]["ok"]
    assert set(data["backends"]) == set(demo_vendors())


def _delivery(event_id: str, *, timestamp_ms: int | None = None, phase: str = "running") -> bytes:
    now = timestamp_ms or int(time.time() * 1000)
    return json.dumps(
        {
            "id": event_id,
            "webhookId": "a1b2c3d4-0000-4000-8000-000000000001",
            "createdAt": now,
            "timestamp": now,
            "event": "task.updated",
            "payload": {"task": {"id": "wh-task-1", "type": "upload", "snapshot": {
                "id": "wh-task-1", "type": "upload", "createdAt": now - 1000,
                "status": {"phase": phase, "updatedAt": now, "progress": 0.5}}}},
        }
    ).encode()  # fmt: skip


def test_webhooks_forged_stale_replayed_are_refused_and_not_recorded(running: Running) -> None:
    store = running.served.store
    now = int(time.time() * 1000)
    forged = _delivery(str(uuid.uuid4()))
    status, data = running.post(
        "/webhooks/livepeer", forged, {"Livepeer-Signature": sign(forged, "wrong", now)}
    )
    assert (status, data["status"]) == (401, 401)
    stale_ms = now - 3_600_000
    stale = _delivery(str(uuid.uuid4()), timestamp_ms=stale_ms)
    status, _ = running.post(
        "/webhooks/livepeer", stale, {"Livepeer-Signature": sign(stale, SECRET, stale_ms)}
    )
    assert status == 401
    assert running.post("/webhooks/livepeer", forged, {})[0] == 401
    store.flush(5)
    assert store.task("livepeer:wh-task-1") is None
    good = _delivery(str(uuid.uuid4()))
    headers = {"Livepeer-Signature": sign(good, SECRET, now)}
    status, data = running.post("/webhooks/livepeer", good, headers)
    assert status == 202, data
    assert data["ref"] == "livepeer:wh-task-1"
    store.flush(5)
    assert store.task("livepeer:wh-task-1")["status"]["state"] == "running"  # type: ignore[index]
    status, _ = running.post("/webhooks/livepeer", good, headers)
    assert status == 409
    assert len(store.transitions("livepeer:wh-task-1")) == 1
    assert running.post("/webhooks/nope", good, headers)[0] == 404
    assert running.post("/webhooks/vionlabs", good, headers)[0] == 404


def test_a_token_protects_the_page_and_the_api(running: Running) -> None:
    from taskhub.serve import App

    token = "s3cret/+=token-with-every-kind"
    app = App(running.served.service, running.served.metrics, token=token)
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=_run, args=(server,), daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    try:
        assert request(url + "/api/tasks")[0] == 401
        assert request(url + "/")[0] == 401
        assert request(url + "/api/tasks", headers={"Authorization": "Bearer nope"})[0] == 401
        assert request(url + "/api/tasks", headers={"Authorization": f"Bearer {token}"})[0] == 200
        # The scheme is case-insensitive (RFC 9110 section 11.1).
        assert request(url + "/api/tasks", headers={"Authorization": f"bearer {token}"})[0] == 200
        # A browser logs in once; the cookie works whatever characters the token has.
        cookie = _login(url, token)
        assert token not in cookie
        assert request(url + "/", headers={"Cookie": cookie})[0] == 200
        assert request(url + "/", headers={"Cookie": "taskhub_session=forged.1.x.y"})[0] == 401
        assert request(url + "/healthz")[0] == 200
    finally:
        server.close()


def _login(url: str, token: str) -> str:
    """Log in as a browser does (``/?token=``) and return the session cookie it sets."""
    from urllib.parse import quote

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(f"{url}/?token={quote(token, safe='')}", timeout=10)
    assert info.value.code == 303
    return str(info.value.headers["Set-Cookie"]).split(";", 1)[0]


# -- the page in a real browser ----------------------------------------------------------------


def test_the_page_in_chromium(running: Running, browser: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    # The page re-renders its table as it refreshes itself: a row read mid-render is stale,
    # so each wait looks again instead of failing on it.
    def wait(condition: Any) -> None:
        WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
            condition
        )

    def click_first_row(d: Any) -> bool:
        d.find_element(By.CSS_SELECTOR, "#tasks tbody tr").click()
        return True

    browser.get(running.url + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")
    seen = {}
    for row in rows:
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        seen[cells[0]] = cells
    for task in running.tasks.values():  # type: ignore[attr-defined]
        assert seen[task.ref][4] == "succeeded", seen[task.ref]
    counts = browser.find_element(By.ID, "counts").text
    for vendor in demo_vendors():
        assert vendor in counts
    # A filter narrows the table (the script fetches the filtered page).
    Select(browser.find_element(By.ID, "filter-vendor")).select_by_value("vionlabs")
    wait(
        lambda d: (
            {
                r.find_elements(By.TAG_NAME, "td")[2].text
                for r in d.find_elements(By.CSS_SELECTOR, "#tasks tbody tr")
            }
            == {"vionlabs"}
        )
    )
    # A click shows the task's history.
    wait(click_first_row)
    wait(
        lambda d: (
            d.find_element(By.ID, "history").is_displayed()
            and "succeeded" in d.find_element(By.ID, "history").text
        )
    )
    ref = running.tasks["vionlabs"].ref  # type: ignore[attr-defined]
    assert browser.find_element(By.ID, "history-ref").text == ref
    browser.save_screenshot(str(tmp_path / "page.png"))
    time.sleep(2.5)  # one self-refresh, whose errors would show in the console
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []


# -- a real Prometheus scrapes /metrics ----------------------------------------------------------


def test_prometheus_scrapes_the_metrics(running: Running, tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        missing("Debian's prometheus is not installed")
    assert binary is not None
    port = free_port()
    target = running.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: taskhub\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        result: list[Any] = []
        while time.monotonic() < deadline and not result:
            time.sleep(0.5)
            try:
                status, data = request(
                    f"http://127.0.0.1:{port}/api/v1/query?query=taskhub_tasks%7Bstate%3D%22succeeded%22%7D"
                )
            except OSError:
                continue
            if status == 200:
                result = data["data"]["result"]
        assert {r["metric"]["vendor"] for r in result} >= set(demo_vendors())
        status, data = request(f"http://127.0.0.1:{port}/api/v1/query?query=up")
        assert data["data"]["result"][0]["value"][1] == "1"
    finally:
        proc.terminate()
        proc.wait(10)


# -- the command -------------------------------------------------------------------------------


def test_taskhub_serve_stops_cleanly_on_sigterm(running: Running, tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    config.write_text(config_text(running.sims))
    port = free_port()
    db = f"sqlite:///{tmp_path / 'cmd.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskhub", "serve", "--config", str(config), "--db", db,
         "--port", str(port), "--backend", "livepeer", "--backend", "vionlabs"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        await_serving(proc, f"http://127.0.0.1:{port}")
        status, data = request(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
        assert set(data["backends"]) == {"livepeer", "vionlabs"}
        # The listing found the livepeer simulator's tasks and recorded them.
        deadline = time.monotonic() + 20
        total = 0
        while time.monotonic() < deadline and not total:
            total = request(f"http://127.0.0.1:{port}/api/tasks?backend=livepeer")[1]["total"]
            time.sleep(0.2)
        assert total >= 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM" in out and "recorded" in out


def test_the_grafana_dashboard_queries_only_metrics_the_service_exports(running: Running) -> None:
    import json
    import re
    from pathlib import Path

    board = json.loads(
        (Path(__file__).parent.parent / "dashboards/grafana-taskhub.json").read_text()
    )
    status, text = running.get("/metrics")
    assert status == 200
    exported = {f.name for f in text_string_to_metric_families(text)}
    exported |= {f"{n}_total" for n in exported} | {f"{n}_bucket" for n in exported}
    queries = [t["expr"] for p in board["panels"] for t in p["targets"]]
    names = {m for q in queries for m in re.findall(r"\btaskhub_[a-z_]+", q)}
    assert names and names <= exported, sorted(names - exported)
    assert board["uid"] == "taskhub" and len(board["panels"]) >= 8
