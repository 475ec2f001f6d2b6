"""The page people open (issues 20 and 22), in headless Chromium against a running
``taskhub serve`` over the simulators, on SQLite and on a real PostgreSQL.

The service follows four simulated vendors sharing one manual clock, set three hours back:
Veritone Edge jobs, Veritone jobs and Cognite executions with several tasks each were run to
the end half an hour apart (so their created and updated times differ), and the store also
holds 300 older tasks of a backend it no longer follows (so the table has more than one
page). The tests drive the page as a person does: search and time filters, "more", a row's
subtasks, a task's detail, Cancel / Retry / Submit with their in-page confirmation, a
viewer's page, the charts; and check each against the hub, the API and the audit trail.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import attrs
import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub.cli.demo import config_text
from taskhub.config import load
from taskhub.hub import TaskHub, connect_all
from taskhub.model import Status, Task
from taskhub.serve import Access, Role, Served, Token, build
from taskhub.states import State
from taskhub.store.stats import Stats, Window, percentile
from taskhub.testing import SimClock, Simulation, simulate
from tests.serving import fetch, serving
from tests.store.services import pg_server  # noqa: F401 (fixture)

OPS = "ops-Qz7_k2Lw9xPq4RvT"
VIEW = "view-Hn3Bt8Zy1Mc6Ws5D"
VENDORS = ("veritone-edge", "veritone", "cognite", "livepeer")
#: Units of work run to the end by the fixture, each with several parts (subtasks).
JOBS = {"veritone-edge": 3, "veritone": 2, "cognite": 2}
#: Older tasks of a backend no longer followed (more than one page of the table).
ARCHIVE = 300
ARCHIVE_BACKEND = "vionlabs-archive"


@attrs.define
class Site:
    """A running service and what the fixture did to it."""

    url: str
    served: Served
    sims: dict[str, Simulation]
    hubs: dict[str, TaskHub]
    clock: SimClock
    dialect: str
    #: vendor -> the refs of the units of work submitted to it.
    submitted: dict[str, list[str]]
    #: vendor -> the simulated time its batch was submitted.
    batch_at: dict[str, datetime]

    def call(self, method: str, path: str, *, token: str = OPS, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        data = None if body is None else json.dumps(body).encode()
        status, _, raw = fetch(
            self.url.removeprefix("http://"), path, method=method, headers=headers, body=data
        )
        return status, json.loads(raw) if raw else None


def _edge_job(sim: Simulation) -> str:
    """A job with a parameter: an Edge transcription of ``${url}``."""
    spec = sim.simulator.demo_spec()
    assert spec is not None
    tasks = []
    for task in spec["tasks"]:
        fields = [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in task.items() if k != "payload"]
        if "payload" in task:
            fields.append('"payload" = { "url" = "${url}" }')
        tasks.append("{ " + ", ".join(fields) + " }")
    return (
        f'\n[jobs."edge-transcribe"]\nbackend = "veritone-edge"\n'
        f'spec = {{ "tasks" = [{", ".join(tasks)}] }}\n'
    )


def _spec(sim: Simulation) -> dict[str, Any]:
    spec = sim.simulator.demo_spec()
    assert spec is not None
    if sim.vendor == "veritone":  # three engine tasks per job
        spec["tasks"] = spec["tasks"] * 3
    return spec


def _run_to_the_end(site: Site, vendor: str) -> None:
    """Submit the vendor's batch and move the shared clock until every job has finished."""
    hub, sim = site.hubs[vendor], site.sims[vendor]
    site.batch_at[vendor] = datetime.fromtimestamp(site.clock.now(), timezone.utc)
    tasks = [hub.submit(**_spec(sim)) for _ in range(JOBS[vendor])]
    site.submitted[vendor] = [t.ref for t in tasks]
    for _ in range(200):
        read = [hub.get(t.id) for t in tasks]
        if all(t.state.terminal for t in read):
            assert {t.state for t in read} == {State.SUCCEEDED}, read
            return
        for task in read:
            sim.simulator.demo_step(hub, task)
        site.clock.advance(30)
    pytest.fail(f"{vendor}: the jobs did not finish: {read}")


def _archive(site: Site) -> None:
    """Older finished tasks of a backend this service no longer follows."""
    old = datetime.now(timezone.utc) - timedelta(days=3)
    for n in range(ARCHIVE):
        at = old + timedelta(seconds=n)
        status = Status(State.SUCCEEDED, raw="done", vendor="vionlabs", updated_at=at)
        site.served.store.record(
            Task(ARCHIVE_BACKEND, "vionlabs", f"arch-{n:04d}", status, created_at=at)
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp(f"page-{request.param}")
    if request.param == "sqlite":
        db = f"sqlite:///{tmp / 'page.db'}"
    else:
        db = request.getfixturevalue("pg_server").create_database(f"page_{time.monotonic_ns()}")
    clock = SimClock(manual=True, start=time.time() - 3 * 3600)
    with contextlib.ExitStack() as stack:
        sims = {v: stack.enter_context(simulate(v, clock=clock)) for v in VENDORS}
        config = tmp / "taskhub.toml"
        config.write_text(config_text(sims) + _edge_job(sims["veritone-edge"]))
        hubs = connect_all(load(config))
        access = Access([Token("ops", Role.OPERATOR, OPS), Token("grafana", Role.VIEWER, VIEW)])
        served = build(hubs, db, access=access, discover_every=0.5)
        served.app.stats.ttl = 0  # each read fresh: the tests compare the page with the API
        try:
            with serving(served.app) as address:
                site = Site(f"http://{address}", served, sims, hubs, clock, request.param, {}, {})
                _archive(site)  # first: the page shows the newest observed first
                for vendor in JOBS:
                    _run_to_the_end(site, vendor)
                    clock.advance(1800)
                site.submitted["livepeer"] = []
                assert served.store.flush(30)
                yield site
        finally:
            served.close()
            for hub in hubs.values():
                hub.close()


@pytest.fixture(autouse=True)
def _leave_the_page(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test, the browser leaves the page, whose refreshes would otherwise outlive the
    service they talk to."""
    yield
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").get("about:blank")


# -- driving the page ----------------------------------------------------------------------------


def _wait(browser: Any, condition: Callable[[Any], Any], timeout: float = 15) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page re-renders its table as it refreshes itself: an element read mid-render is
    # stale, so each wait looks again instead of failing on it.
    return WebDriverWait(
        browser, timeout, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def _open(browser: Any, site: Site, token: str = OPS) -> None:
    """Log in as a browser does (``/?token=``, then the session cookie) and open the page."""
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}/?token={quote(token, safe='')}")
    _wait(browser, lambda d: d.find_elements(By.ID, "tasks"))
    browser.get_log("browser")  # start each test with an empty console


def _errors(browser: Any, allowed: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        e
        for e in browser.get_log("browser")
        if e["level"] in ("SEVERE", "ERROR") and not any(a in e["message"] for a in allowed)
    ]


def _rows(browser: Any) -> dict[str, list[str]]:
    """The table's units of work (not their subtasks): ref -> cell texts, read at once (the
    table re-renders itself every few seconds)."""
    found: dict[str, list[str]] = browser.execute_script(
        """
        const out = {};
        document.querySelectorAll('#tasks tbody tr:not(.sub)').forEach(tr => {
          out[tr.dataset.ref] = Array.from(tr.cells, td => td.textContent.trim());
        });
        return out;
        """
    )
    return found


def _click(browser: Any, css: str) -> None:
    """Click the element ``css`` names, looking again if the table re-rendered it."""
    from selenium.webdriver.common.by import By

    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def _row(browser: Any, ref: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f'#tasks tbody tr[data-ref="{ref}"]:not(.sub)')


def _show(browser: Any, ref: str) -> None:
    """Click a task's row (its ref cell) and wait for its detail."""
    from selenium.webdriver.common.by import By

    _click(browser, f'#tasks tbody tr[data-ref="{ref}"]:not(.sub) td')
    _wait(browser, lambda d: d.find_element(By.ID, "history-ref").text == ref)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#history tbody tr"))


def _confirm(browser: Any, *, reason: str | None = None, yes: bool = True) -> None:
    from selenium.webdriver.common.by import By

    _wait(browser, lambda d: d.find_element(By.ID, "confirm").is_displayed())
    if reason is not None:
        browser.find_element(By.ID, "confirm-reason").send_keys(reason)
    browser.find_element(By.ID, "confirm-yes" if yes else "confirm-no").click()
    _wait(browser, lambda d: not d.find_element(By.ID, "confirm").is_displayed())


def _set_time(browser: Any, name: str, moment: datetime) -> None:
    """Fill a time filter as its picker does: the browser's local time."""
    browser.execute_script(
        """
        const d = new Date(arguments[1]), pad = n => String(n).padStart(2, '0');
        const input = document.getElementById('filter-' + arguments[0]);
        input.value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
          'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
        input.dispatchEvent(new Event('change', {bubbles: true}));
        """,
        name,
        moment.isoformat(),
    )


def _shown_refs(browser: Any, expected: set[str]) -> bool:
    return set(_rows(browser)) == expected


def _api_refs(site: Site, query: str) -> set[str]:
    status, data = site.call("GET", f"/api/tasks?limit=1000&{query}")
    assert status == 200, data
    return {t["ref"] for t in data["tasks"]}


# -- counts and subtasks (issue 20) --------------------------------------------------------------


def _subtasks(browser: Any, ref: str) -> dict[str, str]:
    """The subtask rows shown under ``ref``: their refs and states, read at once."""
    found: dict[str, str] = browser.execute_script(
        """
        const out = {};
        document.querySelectorAll('#tasks tbody tr.sub').forEach(tr => {
          if (tr.dataset.parent === arguments[0] && tr.dataset.ref) {
            out[tr.dataset.ref] = tr.cells[4].textContent.trim();
          }
        });
        return out;
        """,
        ref,
    )
    return found


def _expand_and_fold(browser: Any, site: Site, ref: str) -> None:
    """Click a unit of work's toggle: its subtasks show under it, as the API pages them."""
    from selenium.webdriver.common.by import By

    expected = _api_refs(site, f"parent={quote(ref)}&level=all")
    assert len(expected) >= 2, (ref, expected)
    toggle = f'#tasks tbody tr[data-ref="{ref}"]:not(.sub) button.toggle'
    assert browser.find_element(By.CSS_SELECTOR, toggle).get_attribute("aria-expanded") == "false"
    _click(browser, toggle)
    _wait(browser, lambda d: set(_subtasks(d, ref)) == expected)
    assert set(_subtasks(browser, ref).values()) == {"succeeded"}
    # They stay under their parent when the table refreshes itself (its rows are new ones).
    from selenium.webdriver.support.expected_conditions import staleness_of

    before = _row(browser, ref)
    browser.execute_script("window.taskhubPage.refresh()")
    _wait(browser, staleness_of(before))
    assert set(_subtasks(browser, ref)) == expected
    _click(browser, toggle)
    _wait(browser, lambda d: not _subtasks(d, ref))


def test_counts_are_units_of_work_and_a_row_expands_to_its_subtasks(
    site: Site, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site, VIEW)
    counts = browser.find_element(By.ID, "counts")
    for vendor, refs in site.submitted.items():
        cells = counts.find_elements(By.CSS_SELECTOR, f'td[data-key^="{vendor}|"]')
        assert sum(int(c.text) for c in cells) == len(refs), vendor
    assert "counts once" in browser.find_element(By.ID, "counts-section").text
    _, parts = site.call("GET", "/api/counts?level=subtask", token=VIEW)
    stored = sum(c["count"] for c in parts["counts"])
    assert stored >= sum(JOBS.values()) * 2
    assert browser.find_element(By.ID, "subtask-total").text == str(stored)
    for vendor in JOBS:
        _expand_and_fold(browser, site, site.submitted[vendor][0])
    # A backend that stores no subtasks has no toggle.
    livepeer_rows = [r for r in _rows(browser) if r.startswith(f"{ARCHIVE_BACKEND}:")]
    assert livepeer_rows
    assert not _row(browser, livepeer_rows[0]).find_elements(By.CSS_SELECTOR, "button.toggle")
    assert _errors(browser) == []


# -- search, time ranges, paging -----------------------------------------------------------------


def test_search_and_time_ranges_narrow_the_table(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site, VIEW)
    edge = site.submitted["veritone-edge"][0]
    prefix = edge.split(":", 1)[1][:8]
    box = browser.find_element(By.ID, "filter-q")
    box.send_keys(prefix)  # an id's start
    _wait(browser, lambda d: _shown_refs(d, _api_refs(site, f"q={prefix}")))
    assert edge in _rows(browser)
    box.clear()
    box.send_keys("veritone-edge:")  # a ref's start
    expected = _api_refs(site, "q=veritone-edge:")
    assert expected >= set(site.submitted["veritone-edge"])
    _wait(browser, lambda d: _shown_refs(d, expected))
    box.clear()
    browser.find_element(By.ID, "filters-clear").click()
    # Created within the Veritone batch's half hour: its jobs only.
    start = site.batch_at["veritone"] - timedelta(seconds=60)
    _set_time(browser, "created_after", start)
    _set_time(browser, "created_before", start + timedelta(seconds=1200))
    _wait(browser, lambda d: _shown_refs(d, set(site.submitted["veritone"])))
    browser.find_element(By.ID, "filters-clear").click()
    # Updated since the Cognite batch: narrowed as the API narrows it.
    since = site.batch_at["cognite"] - timedelta(seconds=60)
    _set_time(browser, "updated_after", since)
    stamp = since.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    expected = _api_refs(site, f"updated_after={quote(stamp)}")
    assert set(site.submitted["cognite"]) <= expected
    assert not expected & set(site.submitted["veritone-edge"][: JOBS["veritone-edge"]])
    _wait(browser, lambda d: _shown_refs(d, expected))
    browser.find_element(By.ID, "filters-clear").click()
    _wait(browser, lambda d: len(_rows(d)) == 200)
    assert _errors(browser) == []


def test_more_pages_with_the_cursor_and_back(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site, VIEW)
    _, whole = site.call("GET", "/api/tasks?limit=1000", token=VIEW)
    assert whole["total"] > 200 and whole["next"] is None
    assert len(_rows(browser)) == 200
    assert browser.find_element(By.ID, "shown").text == f"200 of {whole['total']}"
    browser.find_element(By.ID, "more").click()
    _wait(browser, lambda d: len(_rows(d)) == whole["total"])
    order = [
        tr.get_attribute("data-ref")
        for tr in browser.find_elements(By.CSS_SELECTOR, "#tasks tbody tr:not(.sub)")
    ]
    assert order == [t["ref"] for t in whole["tasks"]]  # no gap, no repeat
    assert not browser.find_element(By.ID, "more").is_displayed()
    assert browser.find_element(By.ID, "paused").is_displayed()
    browser.find_element(By.ID, "first-page").click()
    _wait(browser, lambda d: len(_rows(d)) == 200)
    assert _errors(browser) == []


# -- actions from the page (issue 22) ------------------------------------------------------------


def _running_execution(site: Site) -> Task:
    hub = site.hubs["cognite"]
    spec = site.sims["cognite"].simulator.demo_spec()
    assert spec is not None
    task = hub.submit(**spec)
    site.submitted["cognite"].append(task.ref)
    # The clock stands still: the execution stays unfinished (and every other task as it is).
    assert not hub.get(task.id).state.terminal
    return task


def _cancels(site: Site) -> int:
    """How many cancel requests the Cognite simulator received."""
    return sum(1 for r in site.sims["cognite"].requests if r.path.endswith("/cancel"))


def _audit_first(browser: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    row = browser.find_element(By.CSS_SELECTOR, "#audit tbody tr")
    return [c.text for c in row.find_elements(By.TAG_NAME, "td")]


def test_cancel_from_the_page_cancels_the_vendors_task(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    task = _running_execution(site)
    _open(browser, site)
    _wait(browser, lambda d: task.ref in _rows(d))
    _show(browser, task.ref)
    cancels = _cancels(site)
    audit = site.call("GET", "/api/audit")[1]["audit"]
    # The confirmation step: "Back" sends nothing.
    browser.find_element(By.ID, "act-cancel").click()
    _confirm(browser, yes=False)
    assert _cancels(site) == cancels
    assert site.call("GET", "/api/audit")[1]["audit"] == audit
    browser.find_element(By.ID, "act-cancel").click()
    _confirm(browser, reason="stopped from the page")
    _wait(browser, lambda d: "is now cancelled" in d.find_element(By.ID, "notice").text)
    assert _cancels(site) == cancels + 1
    assert site.hubs["cognite"].get(task.id).state is State.CANCELLED  # the vendor's word
    _wait(browser, lambda d: _rows(d)[task.ref][4] == "cancelled")
    _wait(browser, lambda d: d.find_element(By.ID, "detail-state").text == "cancelled")
    _wait(browser, lambda d: _audit_first(d)[1:5] == ["ops", "cancel", task.ref, "ok"])
    assert "stopped from the page" in _audit_first(browser)[7]
    assert _errors(browser) == []


#: How an action's answer ends on the page (while it is sent, the notice ends with "…").
_ANSWERED = tuple(f"is now {s.value}" for s in State)


def test_retry_from_the_page(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    task = _running_execution(site)
    status, _ = site.call("POST", f"/api/tasks/{task.ref}/cancel", body={})
    assert status == 200
    _open(browser, site)
    _show(browser, task.ref)
    browser.find_element(By.ID, "act-retry").click()
    _confirm(browser)
    _wait(browser, lambda d: d.find_element(By.ID, "notice").text.endswith(_ANSWERED))
    notice = browser.find_element(By.ID, "notice")
    assert "is now" in notice.text and "ok" in notice.get_attribute("class"), notice.text
    assert not site.hubs["cognite"].get(task.id).state.terminal  # running again
    _wait(browser, lambda d: _audit_first(d)[1:5] == ["ops", "retry", task.ref, "ok"])
    _wait(browser, lambda d: _rows(d)[task.ref][4] not in ("cancelled", ""))
    assert _errors(browser) == []


def test_submit_a_job_from_its_form(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site)
    _, jobs = site.call("GET", "/api/jobs")
    forms = {
        form.get_attribute("data-job"): [
            i.get_attribute("name") for i in form.find_elements(By.TAG_NAME, "input")
        ]
        for form in browser.find_elements(By.CSS_SELECTOR, "form.job")
    }
    assert forms == {j["name"]: j["params"] for j in jobs["jobs"]}  # one input per parameter
    assert forms["edge-transcribe"] == ["url"]
    form = browser.find_element(By.CSS_SELECTOR, 'form.job[data-job="edge-transcribe"]')
    form.find_element(By.NAME, "url").send_keys("https://media.example.com/from-the-page.mp3")
    creates = len(site.sims["veritone-edge"].requests)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _confirm(browser)
    _wait(browser, lambda d: "is now" in d.find_element(By.ID, "notice").text)
    ref = browser.find_element(By.ID, "notice").text.split(": ", 1)[1].split(" is now")[0]
    site.submitted["veritone-edge"].append(ref)
    bodies = [
        r.body for r in site.sims["veritone-edge"].requests[creates:] if r.path.endswith("/create")
    ]
    assert len(bodies) == 1 and b"from-the-page.mp3" in bodies[0]  # sent once, with the value
    assert site.hubs["veritone-edge"].get(ref.split(":", 1)[1]).ref == ref
    _wait(browser, lambda d: ref in _rows(d))
    _wait(browser, lambda d: browser.find_element(By.ID, "history-ref").text == ref)
    first = _audit_first(browser)
    assert first[1:6] == ["ops", "submit", "edge-transcribe", "ok", ref]
    assert json.loads(first[7]) == {"url": "https://media.example.com/from-the-page.mp3"}
    assert _errors(browser) == []


def test_a_viewer_sees_no_action_and_is_refused(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, site, VIEW)
    ref = site.submitted["cognite"][0]
    _show(browser, ref)
    # A row is reachable from the keyboard too: focused, Enter shows it.
    other = site.submitted["veritone"][0]
    browser.execute_script(
        "document.querySelector('#tasks tbody tr[data-ref=\"' + arguments[0] + '\"]').focus()",
        other,
    )
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _wait(browser, lambda d: d.find_element(By.ID, "history-ref").text == other)
    for selector in ("#actions", "#act-cancel", "#act-retry", "#jobs", "form.job", "#confirm"):
        assert browser.find_elements(By.CSS_SELECTOR, selector) == [], selector
    audit = site.call("GET", "/api/audit")[1]["audit"]
    cancels = _cancels(site)
    answers = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector('meta[name="taskhub-csrf"]').content;
        const headers = {'Content-Type': 'application/json', 'X-Taskhub-CSRF': csrf};
        const post = path => fetch(path, {method: 'POST', headers, body: '{}'})
          .then(r => r.json().then(d => [r.status, d.error]));
        Promise.all([post('/api/tasks/' + arguments[0] + '/cancel'),
                     post('/api/jobs/cognite-demo')]).then(done);
        """,
        ref,
    )
    assert [a[0] for a in answers] == [403, 403]
    assert all("viewer" in a[1] for a in answers)
    assert _cancels(site) == cancels
    assert site.call("GET", "/api/audit")[1]["audit"] == audit  # nothing was done
    assert _errors(browser, allowed=("403",)) == []


# -- the charts ----------------------------------------------------------------------------------


def _chart(browser: Any) -> dict[str, Any]:
    """What the two charts show: series -> summed count, series -> seconds."""
    from selenium.webdriver.common.by import By

    finished: dict[str, int] = {}
    for rect in browser.find_elements(By.CSS_SELECTOR, "#chart-finished rect.bar"):
        key = rect.get_attribute("data-series")
        finished[key] = finished.get(key, 0) + int(rect.get_attribute("data-count"))
    spreads = {
        rect.get_attribute("data-series"): float(rect.get_attribute("data-seconds"))
        for rect in browser.find_elements(By.CSS_SELECTOR, "#chart-durations rect.bar")
    }
    return {"finished": finished, "durations": spreads}


def _drawn(browser: Any) -> str | None:
    """How many times the script has redrawn the charts."""
    found: str | None = browser.execute_script("return document.body.dataset.chartsDrawn")
    return found


def test_the_charts_are_drawn_by_the_page(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site, VIEW)
    status, finished = site.call("GET", "/api/stats/finished?hours=24", token=VIEW)
    assert status == 200
    status, durations = site.call("GET", "/api/stats/durations", token=VIEW)
    assert status == 200
    expected = {
        "finished": {f"{s['vendor']}|{s['state']}": s["total"] for s in finished["series"]},
        "durations": {
            f"{v['vendor']}|{k}": v[k] for v in durations["vendors"] for k in ("p50", "p95")
        },
    }
    # Units of work only: a job counts once, whatever its parts.
    for vendor in JOBS:
        assert expected["finished"][f"{vendor}|succeeded"] == JOBS[vendor]
        assert 0 < expected["durations"][f"{vendor}|p50"] <= expected["durations"][f"{vendor}|p95"]
    assert _chart(browser) == expected  # the server's first render, without script
    drawn = _drawn(browser)
    browser.execute_script("window.taskhubPage.refreshCharts()")
    _wait(browser, lambda d: _drawn(d) != drawn)
    assert _chart(browser) == expected  # the script's redraw from the API
    for svg in browser.find_elements(By.CSS_SELECTOR, "svg.chart"):
        assert svg.get_attribute("style") in (None, "")
    assert _errors(browser) == []


def test_the_page_in_a_foreign_frame_shows_nothing(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, site)
    browser.get(f"data:text/html,<iframe id='f' src='{site.url}/'></iframe>")
    frame = browser.find_element(By.ID, "f")
    browser.switch_to.frame(frame)
    try:
        # Chromium refuses to render it (frame-ancestors 'none') and shows its error page.
        _wait(
            browser, lambda d: d.execute_script("return location.href").startswith("chrome-error:")
        )
        assert browser.find_elements(By.ID, "tasks") == []
        assert browser.find_elements(By.TAG_NAME, "svg") == []
    finally:
        browser.switch_to.default_content()
    # What it refused: the page, whose policy forbids every frame ancestor.
    _, headers, _ = fetch(site.url.removeprefix("http://"), "/", headers=_session(site))
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def _session(site: Site) -> dict[str, str]:
    """The headers of a logged-in browser (its session cookie)."""
    cookie = site.served.app.access.login(VIEW).split(";", 1)[0]
    return {"Cookie": cookie}


def test_the_first_render_is_useful_without_script(site: Site) -> None:
    """What a browser with no script, a crawler or curl gets: the counts, the charts and the
    table are in the HTML; nothing carries a style attribute (the policy allows none)."""
    import re

    status, _, body = fetch(site.url.removeprefix("http://"), "/", headers=_session(site))
    assert status == 200
    page = body.decode()
    assert 'id="counts"' in page and 'data-key="veritone-edge|succeeded"' in page
    for vendor in JOBS:
        assert f'data-series="{vendor}|succeeded"' in page  # the hourly chart's bars
        assert f'data-series="{vendor}|p95"' in page  # the durations chart's bars
    assert page.count('<tr data-ref="') == 200  # the table's first page
    assert 'id="more" data-next="' in page
    assert not re.search(r"\sstyle=", page)
    assert 'id="audit"' in page
    assert '<form class="job"' not in page and 'id="act-cancel"' not in page  # a viewer's


# -- the charts' numbers, from the store ---------------------------------------------------------


def test_stats_count_units_of_work_and_bound_their_read(site: Site) -> None:
    engine = site.served.store.reader_engine
    found = Stats(engine).finished(24)
    totals = {(v, s): sum(c) for (v, s), c in found.series.items()}
    for vendor, n in JOBS.items():
        assert totals[(vendor, "succeeded")] == n
    assert found.exact and found.complete_from is None
    assert found.scanned > sum(JOBS.values())  # subtasks were read, and left out
    assert (ARCHIVE_BACKEND, "succeeded") not in totals  # three days old: outside the window
    capped = Stats(engine, scan=3).finished(24)
    assert (capped.scanned, capped.exact) == (3, False)
    assert capped.complete_from is not None
    spreads = {s.vendor: s for s in Stats(engine).durations(24).vendors}
    for vendor in ("veritone-edge", "veritone"):  # untouched by the action tests
        assert spreads[vendor].count == JOBS[vendor]
    assert spreads["cognite"].count >= JOBS["cognite"]
    sampled = Stats(engine, sample=1).durations(24)
    assert not sampled.exact and sum(s.count for s in sampled.vendors) <= 1
    # Hours are whole UTC hours, the current one last.
    window = Window.last(24, datetime(2026, 12, 6, 3, 52, tzinfo=timezone.utc))
    assert (window.start, window.end) == (
        datetime(2026, 12, 5, 4, tzinfo=timezone.utc),
        datetime(2026, 12, 6, 4, tzinfo=timezone.utc),
    )


def test_percentiles_are_interpolated_as_percentile_cont(site: Site) -> None:
    values = [1.0, 2.0, 4.0, 10.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == pytest.approx(9.1)
    if site.dialect != "postgresql":
        return
    import sqlalchemy as sa

    with site.served.store.reader_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT vendor, percentile_cont(0.5) WITHIN GROUP (ORDER BY s), "
                "percentile_cont(0.95) WITHIN GROUP (ORDER BY s) FROM (SELECT vendor, "
                "extract(epoch FROM finished_at - coalesce(started_at, created_at)) AS s "
                "FROM taskhub_tasks WHERE parent_ref IS NULL AND finished_at IS NOT NULL "
                "AND state IN ('succeeded', 'failed', 'cancelled', 'skipped') "
                "AND finished_at >= now() - interval '24 hours') d GROUP BY vendor"
            )
        ).all()
    ours = {s.vendor: s for s in Stats(site.served.store.reader_engine).durations(24).vendors}
    for vendor, p50, p95 in rows:
        if vendor in ours:
            assert ours[vendor].p50 == pytest.approx(float(p50), abs=1e-3)
            assert ours[vendor].p95 == pytest.approx(float(p95), abs=1e-3)


def test_stats_answers_are_reused_for_a_few_seconds(site: Site) -> None:
    now = [100.0]
    stats = Stats(site.served.store.reader_engine, ttl=10, clock=lambda: now[0])
    first = stats.finished(24)
    assert stats.finished(24) is first
    now[0] += 10
    assert stats.finished(24) is not first
    assert stats.finished(12) is not stats.finished(24)


@pytest.mark.parametrize("query", ["hours=0", "hours=169", "hours=x", "hours=1&hours=2", "n=1"])
def test_stats_routes_refuse_a_bad_window(site: Site, query: str) -> None:
    for route in ("finished", "durations"):
        status, data = site.call("GET", f"/api/stats/{route}?{query}", token=VIEW)
        assert status == 400, (route, query)
        assert data["status"] == 400


def test_stats_routes_need_a_token(site: Site) -> None:
    address = site.url.removeprefix("http://")
    assert fetch(address, "/api/stats/finished")[0] == 401
    assert site.call("GET", "/api/stats/durations?hours=168", token=VIEW)[0] == 200
