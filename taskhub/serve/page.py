"""The page ``GET /`` serves: server-rendered HTML and one small script, no build step.

What the first render holds (useful without script): units of work by vendor and state, the
two charts (finished per hour by vendor and state, duration p50 / p95 per vendor) as inline
SVG, the newest units of work, the audit trail, and — for an operator — a Submit form per
named job. The script (:mod:`.page_script`) adds the rest from the service's own API: search
by ref or id, created / updated time ranges beside the backend / vendor / state filters,
paging with the ``next`` cursor, a row's subtasks under it, a task's detail with its history
and Cancel / Retry, a confirmation step before every action, and a refresh every few seconds
(the charts every 30 s).

The page is rendered knowing who opens it: a viewer gets no action button and no form (and
the service refuses a viewer's POST all the same). An action from the page sends the
session's anti-CSRF value (``<meta name="taskhub-csrf">``) as ``X-Taskhub-CSRF``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from taskhub.states import State
from taskhub.store import SUBTASK
from taskhub.store.stats import Stats

from . import charts
from .page_script import SCRIPT, STYLE
from .routes import Role

if TYPE_CHECKING:
    from taskhub.store import Page, Store

    from .service import Service

STATES = [s.value for s in State]
#: Rows in the first render and in each page the script fetches.
PAGE_ROWS = 200
#: Audit rows shown.
AUDIT_ROWS = 20
#: The charts' window, in hours.
CHART_HOURS = 24
COLUMNS = ["ref", "backend", "vendor", "kind", "state", "raw", "progress", "age", "duration"]
COLUMNS += ["message"]
_TIMES = (
    ("created_after", "created from"),
    ("created_before", "created before"),
    ("updated_after", "updated from"),
    ("updated_before", "updated before"),
)


def _since(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    s = max(0.0, (datetime.now(timezone.utc) - then).total_seconds())
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.0f} h"


def _span(start: str | None, end: str | None) -> str:
    """The duration the script shows, rendered on the server too (the same rounding)."""
    if not start or not end:
        return ""
    try:
        first = datetime.fromisoformat(start.replace("Z", "+00:00"))
        last = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return ""
    s = max(0.0, (last - first).total_seconds())
    return f"{s:.1f} s" if s < 90 else f"{s / 60:.0f} min"


def _row(t: dict[str, Any], parents: set[str]) -> str:
    """One task's row; a unit of work of a backend that stores subtasks gets a toggle."""
    st = t.get("status") or {}
    progress = st.get("progress")
    ref = escape(str(t.get("ref", "")))
    toggle = ""
    if t.get("parent_id") is None and t.get("backend") in parents:
        toggle = (
            f'<button type="button" class="toggle" aria-expanded="false" '
            f'aria-label="subtasks of {ref}" title="subtasks"></button>'
        )
    state = escape(str(st.get("state")))
    cells = [
        toggle + ref,
        escape(str(t.get("backend", ""))),
        escape(str(t.get("vendor", ""))),
        escape(str(t.get("kind") or "")),
        f'<span class="s-{state}">{state}</span>',
        escape(str(st.get("raw") or "")),
        "" if progress is None else f"{round(progress * 100)}%",
        _since(t.get("created_at")),
        _span(t.get("started_at") or t.get("created_at"), t.get("finished_at")),
        escape(str(st.get("message") or "")),
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells)
    return f'<tr data-ref="{ref}" tabindex="0">{tds}</tr>'


def _options(name: str, values: list[str]) -> str:
    items = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (
        f'<label>{name} <select name="{name}" id="filter-{name}">'
        f'<option value="">all</option>{items}</select></label>'
    )


def _counts(store: Store, vendors: list[str]) -> str:
    """Units of work by vendor and state, and how many subtasks are stored apart."""
    table: dict[tuple[str, str], int] = {}
    for _, vendor, state, n in store.counts():
        table[(vendor, state)] = table.get((vendor, state), 0) + n
    parts = sum(n for *_, n in store.counts(level=SUBTASK))
    head = "".join(f"<th>{s}</th>" for s in STATES)
    rows = "".join(
        f"<tr><th>{escape(v)}</th>"
        + "".join(
            f'<td class="num" data-key="{escape(v)}|{s}">{table.get((v, s), 0)}</td>'
            for s in STATES
        )
        + "</tr>"
        for v in vendors
    )
    return f"""<section id="counts-section"><h2>Units of work by vendor and state</h2>
<p class="note">Each job, execution or task counts once, whatever parts it has. Their parts
(a job's engine tasks, an execution's tasks) are counted apart:
<span id="subtask-total">{parts}</span> stored, shown under their parent.</p>
<table id="counts"><thead><tr><th>vendor</th>{head}</tr></thead><tbody>{rows}</tbody></table>
</section>"""


def _charts(stats: Stats) -> str:
    finished = stats.finished(CHART_HOURS).to_json()
    durations = stats.durations(CHART_HOURS).to_json()
    legend = (
        "".join(f'<li><span class="key s-{s}"></span>{s}</li>' for s in charts.STACK)
        + '<li><span class="key p50"></span>p50</li><li><span class="key p95"></span>p95</li>'
    )
    return f"""<section id="charts"><h2>The last {CHART_HOURS} hours</h2>
<div class="charts-row">
<figure id="fig-finished"><figcaption>Units of work finished per hour (UTC), by vendor and
final state.<span class="coverage">{escape(charts.coverage(finished))}</span></figcaption>
{charts.finished_svg(finished)}</figure>
<figure id="fig-durations"><figcaption>How long they took: p50 and p95 per vendor.<span
class="coverage">{escape(charts.coverage(durations))}</span></figcaption>
{charts.durations_svg(durations)}</figure>
</div><ul class="legend">{legend}</ul></section>"""


def _filters(backends: list[str], vendors: list[str]) -> str:
    times = "".join(
        f'<label>{text} <input type="datetime-local" step="1" name="{name}" '
        f'id="filter-{name}"></label>'
        for name, text in _TIMES
    )
    return (
        '<form id="filters" role="search">'
        '<label>ref or id <input type="search" name="q" id="filter-q" '
        'placeholder="starts with…" autocomplete="off" maxlength="200"></label>'
        + _options("backend", backends)
        + _options("vendor", vendors)
        + _options("state", STATES)
        + times
        + '<button type="reset" id="filters-clear">clear</button></form>'
    )


def _tasks(first: Page, backends: list[str], vendors: list[str], parents: set[str]) -> str:
    rows = "".join(_row(t, parents) for t in first.tasks)
    total = f"{first.total}" if first.exact else f"at least {first.total}"
    more = f' data-next="{escape(first.next)}"' if first.next else " hidden"
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    return f"""<section id="tasks-section"><h2>Units of work <small id="shown">{len(first.tasks)}
of {total}</small></h2>
{_filters(backends, vendors)}
<noscript><p class="note">Search, filters, paging, subtasks and the actions need script; the
counts, the charts and this table are as they were when the page was loaded.</p></noscript>
<p id="paused" class="note" hidden>Paged: the table stops refreshing itself while it shows
more than its first page. <button type="button" id="first-page">Back to the first page</button>
</p>
<table id="tasks"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<p><button type="button" id="more"{more}>more</button></p></section>"""


def _detail(acting: bool) -> str:
    """A task's detail (filled by the script on a click): its history, and for an operator
    Cancel and Retry."""
    actions = ""
    if acting:
        actions = (
            '<p id="actions" class="actions" hidden>'
            '<button type="button" id="act-cancel" class="danger">Cancel…</button> '
            '<button type="button" id="act-retry">Retry…</button></p>'
        )
    return f"""<section id="history" hidden aria-labelledby="history-title">
<h2 id="history-title">Task <span id="history-ref"></span>
<button type="button" id="history-close" aria-label="close">&times;</button></h2>
<p><span id="detail-state"></span> <span id="detail-message"></span>
<a id="detail-json" href="#">as JSON</a></p>
{actions}
<table><thead><tr><th>#</th><th>from</th><th>to</th><th>change</th><th>raw</th><th>at</th>
<th>reason</th></tr></thead><tbody></tbody></table></section>"""


def jobs(service: Service) -> list[dict[str, Any]]:
    """The configured jobs a page can submit, as ``GET /api/jobs`` lists them."""
    found: dict[str, dict[str, Any]] = {}
    for hub in service.hubs.values():
        for name, job in (hub.config.jobs if hub.config else {}).items():
            if job.backend in (None, hub.backend) and name not in found:
                found[name] = {
                    "name": name,
                    "backend": hub.backend,
                    "vendor": hub.vendor,
                    "params": job.placeholders(),
                    "ignore": list(job.ignore),
                }
    return sorted(found.values(), key=lambda j: str(j["name"]))


def _job_form(job: dict[str, Any]) -> str:
    name = escape(job["name"])
    inputs = (
        "".join(
            f'<label>{escape(p)} <input name="{escape(p)}" autocomplete="off"></label>'
            for p in job["params"]
        )
        or '<span class="note">no parameters</span>'
    )
    ignored = ""
    if job["ignore"]:
        ignored = f'<span class="note">ignores {escape(", ".join(job["ignore"]))}</span>'
    return (
        f'<form class="job" data-job="{name}"><fieldset><legend>{name} <small>on '
        f"{escape(job['backend'])} ({escape(job['vendor'])})</small></legend>{inputs}{ignored}"
        f'<button type="submit">Submit…</button></fieldset></form>'
    )


def _jobs(service: Service) -> str:
    found = jobs(service)
    forms = "".join(_job_form(j) for j in found) or (
        '<p class="note">No job is configured ([jobs.NAME] in the configuration).</p>'
    )
    return f'<section id="jobs"><h2>Submit a job</h2>{forms}</section>'


def audit_rows(rows: list[dict[str, Any]]) -> str:
    """The audit trail's rows (the script renders the same cells)."""
    out = []
    for r in rows:
        params = json.dumps(r.get("params"), separators=(",", ":"), default=str)
        cells = [r["at"], r["who"], r["action"], r["target"], r["outcome"], r.get("ref") or ""]
        cells += [r.get("detail") or "", "" if params in ("{}", "null") else params]
        out.append(
            f'<tr class="o-{escape(str(r["outcome"]))}">'
            + "".join(f"<td>{escape(str(c))}</td>" for c in cells)
            + "</tr>"
        )
    return "".join(out)


def _audit(store: Store) -> str:
    rows, _ = store.actions.page(limit=AUDIT_ROWS)
    head = "".join(
        f"<th>{c}</th>"
        for c in ("at", "who", "action", "target", "outcome", "ref", "said", "params")
    )
    return f"""<section id="audit-section"><h2>Audit trail <small>the newest {AUDIT_ROWS} actions
taken here</small></h2>
<table id="audit"><thead><tr>{head}</tr></thead><tbody>{audit_rows(rows)}</tbody></table>
</section>"""


_CONFIRM = """<dialog id="confirm" aria-labelledby="confirm-title">
<form method="dialog" id="confirm-form"><h2 id="confirm-title"></h2><p id="confirm-text"></p>
<p id="confirm-fields"><label>reason <input name="reason" id="confirm-reason" maxlength="500"
autocomplete="off"></label> <label><input type="checkbox" name="force" id="confirm-force">
even if it is finished (force)</label></p>
<p><button type="submit" value="yes" id="confirm-yes" class="danger">Confirm</button>
<button type="submit" value="no" id="confirm-no" formnovalidate>Back</button></p>
</form></dialog>"""


def render(
    store: Store,
    service: Service,
    *,
    refresh_seconds: float = 2.0,
    nonce: str = "",
    csrf: str = "",
    role: Role = Role.OPERATOR,
    stats: Stats | None = None,
) -> str:
    """The whole page, with the first :data:`PAGE_ROWS` units of work already in it.
    ``nonce`` marks the page's own style and script (the only ones its
    Content-Security-Policy lets run); ``csrf`` is the session's anti-CSRF value, which the
    page's actions send back; ``role`` is the role of who opens it (a viewer gets no action);
    ``stats`` reads the charts (default: read at once)."""
    acting = role >= Role.OPERATOR
    counts = store.counts()
    parts = store.counts(level=SUBTASK)
    vendors = sorted({v for _, v, _, _ in counts} | {h.vendor for h in service.hubs.values()})
    backends = sorted({b for b, _, _, _ in counts} | set(service.hubs))
    parents = {b for b, _, _, _ in parts}
    health = service.health()
    store_note = "" if health["store"]["ok"] else (
        f'<p role="alert">The store cannot be written: {escape(str(health["store"]["error"]))}</p>'
    )  # fmt: skip
    body_data = {
        "refresh": max(0, round(refresh_seconds)),
        "role": "operator" if acting else "viewer",
        "hours": CHART_HOURS,
        "rows": PAGE_ROWS,
        "parents": sorted(parents),
    }
    data = " ".join(
        f'data-{k}="{escape(v if isinstance(v, str) else json.dumps(v))}"'
        for k, v in body_data.items()
    )
    sections = [
        _counts(store, vendors),
        _charts(stats or Stats(store.reader_engine)),
        _jobs(service) if acting else "",
        _tasks(store.page(limit=PAGE_ROWS), backends, vendors, parents),
        _detail(acting),
        _audit(store),
        _CONFIRM if acting else "",
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskhub</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="taskhub-csrf" content="{escape(csrf)}">
<link rel="icon" href="data:,">
<style nonce="{escape(nonce)}">{STYLE}</style></head>
<body {data}>
<header><h1>taskhub</h1><p id="notice" role="status" aria-live="polite" hidden></p></header>
{store_note}
{"".join(sections)}
<script nonce="{escape(nonce)}">{SCRIPT}</script>
</body></html>
"""
