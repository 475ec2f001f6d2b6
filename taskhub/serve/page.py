"""The page ``GET /`` serves: server-rendered HTML and a little script, no build step.

Counts per vendor and state, a table of tasks with filters by backend, vendor and state, a
task's transitions on click; the script refreshes the counts and the table every few seconds
from ``/api/counts`` and ``/api/tasks``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from taskhub.states import State

if TYPE_CHECKING:
    from taskhub.store import Store

    from .service import Service

STATES = [s.value for s in State]

_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}
#tasks tbody tr{cursor:pointer}#tasks tbody tr:hover{background:#f4f6ff}
.s-succeeded{color:#17803d}.s-failed{color:#b42318}.s-running,.s-paused{color:#1d4ed8}
.s-queued,.s-pending{color:#8a6d00}.s-cancelled,.s-skipped,.s-unknown{color:#666}
#history{margin-top:1em;padding:.5em 1em;background:#f7f7f7;display:none}
.num{text-align:right}form label{margin-right:1em}
"""

_SCRIPT = """
(function(){
  var every = %(every)d;
  var filters = document.getElementById('filters');
  function q(){
    var p = new URLSearchParams();
    ['backend','vendor','state'].forEach(function(n){
      var v = filters.elements[n].value; if (v) p.set(n, v);
    });
    p.set('limit', '200');
    return p.toString();
  }
  function cell(tr, text, cls){
    var td = document.createElement('td'); td.textContent = text == null ? '' : String(text);
    if (cls) td.className = cls; tr.appendChild(td); return td;
  }
  function age(iso){
    if (!iso) return '';
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 90) return Math.round(s) + ' s';
    return s < 5400 ? Math.round(s/60) + ' min' : Math.round(s/3600) + ' h';
  }
  function span(a, b){
    if (!a || !b) return '';
    var s = Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000);
    return s < 90 ? s.toFixed(1) + ' s' : Math.round(s/60) + ' min';
  }
  function row(t){
    var tr = document.createElement('tr'); tr.dataset.ref = t.ref;
    var st = t.status || {};
    cell(tr, t.ref); cell(tr, t.backend); cell(tr, t.vendor); cell(tr, t.kind);
    cell(tr, st.state, 's-' + st.state).classList.add('state'); cell(tr, st.raw);
    cell(tr, st.progress == null ? '' : Math.round(st.progress * 100) + '%%', 'num');
    cell(tr, age(t.created_at)); cell(tr, span(t.started_at || t.created_at, t.finished_at));
    cell(tr, st.message);
    return tr;
  }
  function get(url){
    return fetch(url, {credentials: 'same-origin'}).then(function(r){
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status); return r.json();
    });
  }
  function refresh(){
    get('/api/tasks?' + q()).then(function(data){
      var body = document.querySelector('#tasks tbody');
      var rows = data.tasks.map(row);
      body.replaceChildren.apply(body, rows);
      document.getElementById('shown').textContent = data.tasks.length + ' of ' + data.total;
    }).catch(function(e){ document.getElementById('shown').textContent = String(e); });
    get('/api/counts').then(function(data){
      var cells = document.querySelectorAll('#counts td[data-key]');
      cells.forEach(function(td){ td.textContent = '0'; });
      data.counts.forEach(function(c){
        var key = CSS.escape(c.vendor + '|' + c.state);
        var td = document.querySelector('#counts td[data-key="' + key + '"]');
        if (td) td.textContent = String(Number(td.textContent) + c.count);
      });
    }).catch(function(){});
  }
  function history(ref){
    var path = encodeURIComponent(ref).replace(/%%3A/g, ':');
    get('/api/tasks/' + path + '/transitions').then(function(data){
      var box = document.getElementById('history');
      box.style.display = 'block';
      document.getElementById('history-ref').textContent = ref;
      var body = document.querySelector('#history tbody');
      body.replaceChildren.apply(body, data.transitions.map(function(h){
        var tr = document.createElement('tr');
        cell(tr, h.seq); cell(tr, h.from || '-'); cell(tr, h.to, 's-' + h.to); cell(tr, h.change);
        cell(tr, h.raw); cell(tr, h.at); cell(tr, h.reason || h.message || '');
        return tr;
      }));
    });
  }
  filters.addEventListener('change', refresh);
  filters.addEventListener('submit', function(e){ e.preventDefault(); refresh(); });
  document.querySelector('#tasks tbody').addEventListener('click', function(e){
    var tr = e.target.closest('tr'); if (tr && tr.dataset.ref) history(tr.dataset.ref);
  });
  if (every > 0) setInterval(refresh, every * 1000);
})();
"""


def _options(name: str, values: list[str]) -> str:
    items = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
    return (
        f'<label>{name} <select name="{name}" id="filter-{name}">'
        f'<option value="">all</option>{items}</select></label>'
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


def _row(t: dict[str, Any]) -> str:
    st = t.get("status") or {}
    progress = st.get("progress")
    cells = [
        escape(str(t.get("ref", ""))),
        escape(str(t.get("backend", ""))),
        escape(str(t.get("vendor", ""))),
        escape(str(t.get("kind") or "")),
        f'<span class="s-{escape(str(st.get("state")))}">{escape(str(st.get("state")))}</span>',
        escape(str(st.get("raw") or "")),
        "" if progress is None else f"{round(progress * 100)}%",
        _since(t.get("created_at")),
        _span(t.get("started_at") or t.get("created_at"), t.get("finished_at")),
        escape(str(st.get("message") or "")),
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells)
    return f'<tr data-ref="{escape(str(t.get("ref", "")))}">{tds}</tr>'


def render(
    store: Store,
    service: Service,
    *,
    refresh_seconds: float = 2.0,
    nonce: str = "",
    csrf: str = "",
) -> str:
    """The whole page, with the first 200 tasks already in it. ``nonce`` marks the page's
    own style and script (the only ones its Content-Security-Policy lets run); ``csrf`` is
    the session's anti-CSRF value, which the page's actions send back."""
    counts = store.counts()
    vendors = sorted({v for _, v, _, _ in counts} | {h.vendor for h in service.hubs.values()})
    backends = sorted({b for b, _, _, _ in counts} | set(service.hubs))
    table: dict[tuple[str, str], int] = {}
    for _, vendor, state, n in counts:
        table[(vendor, state)] = table.get((vendor, state), 0) + n
    head = "".join(f"<th>{s}</th>" for s in STATES)
    count_rows = "".join(
        f"<tr><th>{escape(v)}</th>"
        + "".join(
            f'<td class="num" data-key="{escape(v)}|{s}">{table.get((v, s), 0)}</td>'
            for s in STATES
        )
        + "</tr>"
        for v in vendors
    )
    first = store.page(limit=200)
    tasks, total = first.tasks, first.total
    rows = "".join(_row(t) for t in tasks)
    health = service.health()
    store_note = "" if health["store"]["ok"] else (
        f'<p role="alert">The store cannot be written: {escape(str(health["store"]["error"]))}</p>'
    )  # fmt: skip
    filters = (
        '<form id="filters">'
        + _options("backend", backends)
        + _options("vendor", vendors)
        + _options("state", STATES)
        + "</form>"
    )
    columns = ["ref", "backend", "vendor", "kind", "state", "raw", "progress", "age"]
    columns += ["duration", "message"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskhub</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="taskhub-csrf" content="{escape(csrf)}">
<link rel="icon" href="data:,">
<style nonce="{escape(nonce)}">{_STYLE}</style></head>
<body>
<h1>taskhub</h1>
{store_note}
<h2>Tasks by vendor and state</h2>
<table id="counts"><thead><tr><th>vendor</th>{head}</tr></thead><tbody>{count_rows}</tbody></table>
<h2>Tasks <small id="shown">{len(tasks)} of {total}</small></h2>
{filters}
<table id="tasks"><thead><tr>{"".join(f"<th>{c}</th>" for c in columns)}</tr></thead>
<tbody>{rows}</tbody></table>
<section id="history"><h2>History of <span id="history-ref"></span></h2>
<table><thead><tr><th>#</th><th>from</th><th>to</th><th>change</th><th>raw</th><th>at</th>
<th>reason</th></tr></thead><tbody></tbody></table></section>
<script nonce="{escape(nonce)}">{_SCRIPT % {"every": max(0, round(refresh_seconds))}}</script>
</body></html>
"""
