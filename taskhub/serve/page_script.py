"""The page's style sheet and its one script, as text the page inlines under its nonce.

The script reads what the server told it from ``<body data-*>`` (refresh period, role, the
charts' window, the backends that store subtasks) and talks only to the service's own API:
``/api/tasks`` (filters, search, time ranges, the ``next`` cursor, ``parent=REF``),
``/api/tasks/{ref}`` and its transitions, ``/api/counts``, ``/api/audit``,
``/api/stats/finished`` and ``/api/stats/durations``, and — for an operator, after an in-page
confirmation — the POST actions, each with the session's anti-CSRF header. It never sets a
``style`` attribute (the Content-Security-Policy allows none): it toggles ``hidden`` and
classes, and draws the charts as the server does (:mod:`taskhub.serve.charts`).
"""

from __future__ import annotations

STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
[hidden]{display:none!important}
header{display:flex;gap:1.5em;align-items:center}
h1{font-size:1.3em;margin:0}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}
#tasks tbody tr{cursor:pointer}#tasks tbody tr:hover{background:#f4f6ff}
#tasks tr.sub td{background:#fafafa}#tasks tr.sub td:first-child{padding-left:2.4em}
#tasks tr.sub.note td{color:#555;cursor:default}
.s-succeeded{color:#17803d}.s-failed{color:#b42318}.s-running,.s-paused{color:#1d4ed8}
.s-queued,.s-pending{color:#8a6d00}.s-cancelled,.s-skipped,.s-unknown{color:#666}
.num{text-align:right}.note{color:#555;font-size:.92em}
#filters{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;margin-bottom:.6em}
button.toggle{border:0;background:none;cursor:pointer;width:1.5em;padding:0;color:#444}
button.toggle::before{content:"\\25B8"}button.toggle[aria-expanded=true]::before{content:"\\25BE"}
#history{position:fixed;top:0;right:0;bottom:0;width:min(44em,46vw);overflow:auto;z-index:5;
background:#fff;border-left:1px solid #ccc;box-shadow:-4px 0 12px rgba(0,0,0,.08);padding:0 1.2em}
#history-close{float:right;border:0;background:none;font-size:1.3em;cursor:pointer}
#notice{margin:0;padding:.3em .8em;border-radius:4px}
#notice.ok{background:#e7f6ec;color:#14532d}#notice.err{background:#fdecea;color:#7f1d1d}
button.danger{color:#b42318}
.charts-row{display:flex;flex-wrap:wrap;gap:1.5em}
figure{margin:0}figcaption{font-size:.92em;color:#444;margin-bottom:.3em;max-width:560px}
svg.chart{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.tick{fill:#777}
svg line.base{stroke:#ccc}
rect.s-succeeded{fill:#17803d}rect.s-failed{fill:#b42318}rect.s-cancelled{fill:#888}
rect.s-skipped{fill:#c8c8c8}rect.p50{fill:#1d4ed8}rect.p95{fill:#9db8f2}
.legend{list-style:none;padding:0;display:flex;gap:1em;font-size:.92em}
.key{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}
.key.s-succeeded{background:#17803d}.key.s-failed{background:#b42318}
.key.s-cancelled{background:#888}.key.s-skipped{background:#c8c8c8}
.key.p50{background:#1d4ed8}.key.p95{background:#9db8f2}
form.job{display:inline-block;vertical-align:top;margin:0 .8em .6em 0}
form.job fieldset{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;
border:1px solid #ddd;margin:0}
#detail-message:not(:empty)::before{content:"\\2014  "}#detail-message{color:#555}
#detail-json{margin-left:1em;font-size:.92em}
dialog{border:1px solid #999;border-radius:6px;max-width:38em}
dialog::backdrop{background:rgba(0,0,0,.25)}
#audit td{font-size:.92em}#audit tr.o-refused td,#audit tr.o-failed td{color:#7f1d1d}
"""

SCRIPT = r"""
(function(){
  'use strict';
  var body = document.body, $ = function(id){ return document.getElementById(id); };
  var every = Number(body.dataset.refresh) || 0, hours = Number(body.dataset.hours) || 24;
  var perPage = Number(body.dataset.rows) || 200, operator = body.dataset.role === 'operator';
  var parents = new Set(JSON.parse(body.dataset.parents || '[]'));
  var meta = document.querySelector('meta[name="taskhub-csrf"]');
  var csrf = meta ? meta.content : '';
  var filters = $('filters'), tbody = document.querySelector('#tasks tbody');
  var STACK = ['succeeded', 'failed', 'cancelled', 'skipped'];
  var TIMES = ['created_after', 'created_before', 'updated_after', 'updated_before'];
  var NS = 'http://www.w3.org/2000/svg';
  var view = {next: $('more').dataset.next || null, paged: false, asked: 0, open: new Set(),
              parts: new Map(), detail: null};

  // -- small helpers ----------------------------------------------------------------------
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
  function seconds(s){
    if (s < 90) return s.toFixed(1) + ' s';
    return s < 5400 ? Math.round(s/60) + ' min' : (s/3600).toFixed(1) + ' h';
  }
  function answer(r){
    return r.json().catch(function(){ return {}; }).then(function(data){
      if (r.ok) return data;
      var e = new Error(data.error || ('HTTP ' + r.status)); e.status = r.status; throw e;
    });
  }
  function get(url){ return fetch(url, {credentials: 'same-origin'}).then(answer); }
  function post(url, data, headers){
    var sent = {'Content-Type': 'application/json', 'X-Taskhub-CSRF': csrf};
    Object.keys(headers || {}).forEach(function(k){ sent[k] = headers[k]; });
    return fetch(url, {method: 'POST', credentials: 'same-origin', headers: sent,
                       body: JSON.stringify(data || {})}).then(answer);
  }
  function path(ref){ return encodeURIComponent(ref).replace(/%3A/g, ':'); }
  function notice(text, ok){
    var n = $('notice'); n.textContent = text; n.className = ok ? 'ok' : 'err'; n.hidden = false;
  }
  function utc(local){
    if (!local) return '';
    var d = new Date(local); return isNaN(d.getTime()) ? '' : d.toISOString();
  }

  // -- the table ----------------------------------------------------------------------------
  function query(cursor){
    var p = new URLSearchParams();
    ['backend', 'vendor', 'state'].forEach(function(n){
      var v = filters.elements[n].value; if (v) p.set(n, v);
    });
    var q = filters.elements.q.value.trim(); if (q) p.set('q', q);
    TIMES.forEach(function(n){ var v = utc(filters.elements[n].value); if (v) p.set(n, v); });
    p.set('limit', String(perPage));
    if (cursor) p.set('cursor', cursor);
    return p.toString();
  }
  function row(t, parent){
    var tr = document.createElement('tr'), st = t.status || {};
    tr.dataset.ref = t.ref; tr.tabIndex = 0;
    if (parent) { tr.className = 'sub'; tr.dataset.parent = parent; }
    var first = cell(tr, '');
    if (!parent && t.parent_id == null && parents.has(t.backend)) {
      var b = document.createElement('button');
      b.type = 'button'; b.className = 'toggle'; b.title = 'subtasks';
      b.setAttribute('aria-label', 'subtasks of ' + t.ref);
      b.setAttribute('aria-expanded', view.open.has(t.ref) ? 'true' : 'false');
      first.appendChild(b);
    }
    first.appendChild(document.createTextNode(t.ref));
    cell(tr, t.backend); cell(tr, t.vendor); cell(tr, t.kind);
    var state = document.createElement('span');
    state.className = 's-' + st.state; state.textContent = String(st.state);
    cell(tr, '').appendChild(state); cell(tr, st.raw);
    cell(tr, st.progress == null ? '' : Math.round(st.progress * 100) + '%', 'num');
    cell(tr, age(t.created_at)); cell(tr, span(t.started_at || t.created_at, t.finished_at));
    cell(tr, st.message);
    return tr;
  }
  function noteRow(parent, text){
    var tr = document.createElement('tr');
    tr.className = 'sub note'; tr.dataset.parent = parent;
    var td = cell(tr, text); td.colSpan = 10; return tr;
  }
  function partRows(ref){
    var found = view.parts.get(ref);
    if (!found) return [noteRow(ref, 'reading its subtasks…')];
    var rows = found.tasks.map(function(t){ return row(t, ref); });
    if (!found.tasks.length) rows.push(noteRow(ref, 'no subtask stored'));
    else if (found.next) {
      rows.push(noteRow(ref, found.tasks.length + ' of ' + found.total +
                        ' subtasks shown (GET /api/tasks?parent=… pages them)'));
    }
    return rows;
  }
  function placeParts(ref){
    var sel = '[data-parent="' + CSS.escape(ref) + '"]';
    tbody.querySelectorAll(sel).forEach(function(tr){ tr.remove(); });
    var at = tbody.querySelector('tr[data-ref="' + CSS.escape(ref) + '"]:not(.sub)');
    if (at && view.open.has(ref)) at.after.apply(at, partRows(ref));
  }
  function loadParts(ref){
    get('/api/tasks?level=all&limit=100&parent=' + encodeURIComponent(ref)).then(function(d){
      view.parts.set(ref, d); placeParts(ref);
    }).catch(function(e){ notice('subtasks of ' + ref + ': ' + e.message, false); });
  }
  function toggle(ref, button){
    var opening = !view.open.has(ref);
    if (opening) view.open.add(ref); else view.open.delete(ref);
    button.setAttribute('aria-expanded', opening ? 'true' : 'false');
    placeParts(ref);
    if (opening) loadParts(ref);
  }
  function show(data, append){
    var rows = [];
    data.tasks.forEach(function(t){
      rows.push(row(t));
      if (view.open.has(t.ref)) rows.push.apply(rows, partRows(t.ref));
    });
    if (append) tbody.append.apply(tbody, rows); else tbody.replaceChildren.apply(tbody, rows);
    view.next = data.next;
    $('more').hidden = !data.next;
    var shown = tbody.querySelectorAll('tr:not(.sub)').length;
    $('shown').textContent = shown + ' of ' + (data.exact ? '' : 'at least ') + data.total;
    data.tasks.forEach(function(t){ if (view.open.has(t.ref)) loadParts(t.ref); });
  }
  function refreshTable(){
    var asked = ++view.asked;
    return get('/api/tasks?' + query()).then(function(data){
      if (asked === view.asked && !view.paged) show(data, false);
    }).catch(function(e){ $('shown').textContent = String(e.message); });
  }
  function firstPage(){ view.paged = false; $('paused').hidden = true; return refreshTable(); }
  $('more').addEventListener('click', function(){
    if (!view.next) return;
    view.paged = true; $('paused').hidden = false; view.asked++;
    get('/api/tasks?' + query(view.next)).then(function(d){ show(d, true); })
      .catch(function(e){ notice('more: ' + e.message, false); });
  });
  $('first-page').addEventListener('click', firstPage);
  var typing = null;
  filters.addEventListener('input', function(e){
    if (e.target.name !== 'q') return;
    clearTimeout(typing); typing = setTimeout(firstPage, 250);
  });
  filters.addEventListener('change', firstPage);
  filters.addEventListener('reset', function(){ setTimeout(firstPage, 0); });
  filters.addEventListener('submit', function(e){ e.preventDefault(); firstPage(); });
  tbody.addEventListener('keydown', function(e){
    var tr = e.target;  // a focused row: Enter shows it
    if (e.key === 'Enter' && tr.tagName === 'TR' && tr.dataset.ref) detail(tr.dataset.ref);
  });
  tbody.addEventListener('click', function(e){
    var tr = e.target.closest('tr'); if (!tr || !tr.dataset.ref) return;
    var b = e.target.closest('button.toggle');
    if (b) toggle(tr.dataset.ref, b); else detail(tr.dataset.ref);
  });

  // -- counts, audit --------------------------------------------------------------------------
  function refreshCounts(){
    get('/api/counts').then(function(data){
      document.querySelectorAll('#counts td[data-key]').forEach(function(td){
        td.textContent = '0';
      });
      data.counts.forEach(function(c){
        var key = CSS.escape(c.vendor + '|' + c.state);
        var td = document.querySelector('#counts td[data-key="' + key + '"]');
        if (td) td.textContent = String(Number(td.textContent) + c.count);
      });
    }).catch(function(){});
    get('/api/counts?level=subtask').then(function(data){
      var n = 0, found = new Set();
      data.counts.forEach(function(c){ n += c.count; found.add(c.backend); });
      $('subtask-total').textContent = String(n); parents = found;
    }).catch(function(){});
  }
  function refreshAudit(){
    return get('/api/audit?limit=20').then(function(data){
      var box = document.querySelector('#audit tbody');
      box.replaceChildren.apply(box, data.audit.map(function(r){
        var tr = document.createElement('tr'), params = JSON.stringify(r.params);
        tr.className = 'o-' + r.outcome;
        [r.at, r.who, r.action, r.target, r.outcome, r.ref || '', r.detail || '',
         params === '{}' || params === 'null' ? '' : params].forEach(function(v){ cell(tr, v); });
        return tr;
      }));
    }).catch(function(){});
  }

  // -- a task's detail and the actions ----------------------------------------------------------
  function detail(ref){
    view.detail = ref;
    $('history').hidden = false; $('history-ref').textContent = ref;
    var base = '/api/tasks/' + path(ref);
    return Promise.all([get(base), get(base + '/transitions')]).then(function(got){
      if (view.detail !== ref) return;
      var task = got[0], st = task.status || {};
      $('detail-state').textContent = String(st.state);
      $('detail-state').className = 's-' + st.state;
      $('detail-message').textContent = st.message || '';
      $('detail-json').href = base;
      if ($('actions')) $('actions').hidden = task.parent_id != null;
      var box = document.querySelector('#history tbody');
      box.replaceChildren.apply(box, got[1].transitions.map(function(h){
        var tr = document.createElement('tr');
        cell(tr, h.seq); cell(tr, h.from || '-'); cell(tr, h.to, 's-' + h.to); cell(tr, h.change);
        cell(tr, h.raw); cell(tr, h.at); cell(tr, h.reason || h.message || '');
        return tr;
      }));
    }).catch(function(e){ notice(ref + ': ' + e.message, false); });
  }
  $('history-close').addEventListener('click', function(){
    view.detail = null; $('history').hidden = true;
  });
  function ask(title, text, fields){
    var dialog = $('confirm');
    $('confirm-title').textContent = title; $('confirm-text').textContent = text;
    $('confirm-form').reset(); $('confirm-fields').hidden = !fields; dialog.returnValue = '';
    return new Promise(function(resolve){
      dialog.addEventListener('close', function(){
        if (dialog.returnValue !== 'yes') { resolve(null); return; }
        resolve({reason: $('confirm-reason').value.trim(), force: $('confirm-force').checked});
      }, {once: true});
      dialog.showModal();
    });
  }
  function after(ref){
    firstPage(); refreshAudit(); refreshCounts(); if (ref) detail(ref);
  }
  function act(what, sending, ref){
    notice(what + '…', true);
    return sending.then(function(task){
      notice(what + ': ' + task.ref + ' is now ' + (task.status || {}).state, true);
      after(task.ref);
    }, function(e){
      notice(what + ' refused' + (e.status ? ' (' + e.status + ')' : '') + ': ' + e.message, false);
      after(ref);
    });
  }
  function key(){
    var bytes = new Uint8Array(16); crypto.getRandomValues(bytes);
    var hex = Array.from(bytes, function(b){ return b.toString(16).padStart(2, '0'); });
    return 'page-' + hex.join('');
  }
  function value(text){ try { return JSON.parse(text); } catch (e) { return text; } }
  if (operator) {
    $('act-cancel').addEventListener('click', function(){
      var ref = view.detail; if (!ref) return;
      ask('Cancel ' + ref + '?', 'taskhub asks the vendor to stop this task. A finished task ' +
          'is refused unless forced.', true).then(function(a){
        if (!a) return;
        var sent = {force: a.force}; if (a.reason) sent.reason = a.reason;
        act('cancel ' + ref, post('/api/tasks/' + path(ref) + '/cancel', sent), ref);
      });
    });
    $('act-retry').addEventListener('click', function(){
      var ref = view.detail; if (!ref) return;
      ask('Retry ' + ref + '?', 'taskhub asks the vendor to run this finished task again.', false)
        .then(function(a){
          if (a) act('retry ' + ref, post('/api/tasks/' + path(ref) + '/retry'), ref);
        });
    });
    document.querySelectorAll('form.job').forEach(function(form){
      form.addEventListener('submit', function(e){
        e.preventDefault();
        var job = form.dataset.job, params = {};
        Array.from(form.elements).forEach(function(i){
          if (i.name && i.value !== '') params[i.name] = value(i.value);
        });
        var once = key();  // one Idempotency-Key per confirmed submit: never sent twice
        var said = Object.keys(params).length ? 'Parameters: ' + JSON.stringify(params) + '.'
                                              : 'No parameters.';
        ask('Submit ' + job + '?', said, false).then(function(a){
          if (a) act('submit ' + job, post('/api/jobs/' + encodeURIComponent(job), params,
                                           {'Idempotency-Key': once}), null);
        });
      });
    });
  }

  // -- the charts (drawn as taskhub/serve/charts.py draws them) ---------------------------------
  var W = 560, L = 110, R = 12, BAND = 34, GAP = 8, AXIS = 18, ROW = 24, FIGURES = 240;
  function svg(tag, attrs, text){
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function(k){ e.setAttribute(k, String(attrs[k])); });
    if (text != null) e.textContent = text;
    return e;
  }
  function frame(id, height, label, top){
    var attrs = {id: id, 'class': 'chart', viewBox: '0 0 ' + W + ' ' + height, width: W,
                 height: height, role: 'img', 'aria-label': label};
    if (top != null) attrs['data-top'] = top;
    return svg('svg', attrs);
  }
  function empty(root){
    root.appendChild(svg('text', {'class': 'empty', x: L, y: 20},
                         'No unit of work finished in the last ' + hours + ' h.'));
  }
  function drawFinished(d){
    var by = new Map(), top = 0;
    d.series.forEach(function(s){
      if (!by.has(s.vendor)) by.set(s.vendor, {}); by.get(s.vendor)[s.state] = s.counts;
    });
    var vendors = Array.from(by.keys()).sort(), slot = (W - L - R) / d.hours;
    by.forEach(function(st){
      for (var i = 0; i < d.hours; i++) {
        top = Math.max(top, STACK.reduce(function(n, s){ return n + ((st[s] || [])[i] || 0); }, 0));
      }
    });
    var height = Math.max(1, vendors.length) * (BAND + GAP) + AXIS;
    var root = frame('chart-finished', height,
                     'Units of work finished per hour, by vendor and final state', top);
    vendors.forEach(function(v, n){
      var y0 = n * (BAND + GAP), g = svg('g', {'class': 'band', 'data-vendor': v});
      g.appendChild(svg('text', {'class': 'label', x: 0, y: y0 + BAND / 2 + 4}, v));
      g.appendChild(svg('line', {'class': 'base', x1: L, x2: W - R, y1: y0 + BAND, y2: y0 + BAND}));
      for (var h = 0; h < d.hours; h++) {
        var below = 0;
        STACK.forEach(function(s){
          var count = (by.get(v)[s] || [])[h] || 0; if (!count) return;
          var tall = (BAND - 2) * count / top; below += tall;
          var r = svg('rect', {'class': 'bar s-' + s, 'data-series': v + '|' + s,
            'data-hour': d.hour_starts[h], 'data-count': count,
            x: (L + h * slot + slot * 0.1).toFixed(1), y: (y0 + BAND - below).toFixed(1),
            width: (slot * 0.8).toFixed(1), height: tall.toFixed(1)});
          r.appendChild(svg('title', {}, v + ' · ' + s + ' · ' + d.hour_starts[h].slice(11, 16) +
                                         ' UTC: ' + count));
          g.appendChild(r);
        });
      }
      root.appendChild(g);
    });
    for (var h = 0; h < d.hours; h += Math.max(1, Math.floor(d.hours / 8))) {
      root.appendChild(svg('text', {'class': 'tick', x: (L + h * slot).toFixed(1), y: height - 4},
                           d.hour_starts[h].slice(11, 13) + 'h'));
    }
    if (!vendors.length) empty(root);
    return root;
  }
  function drawDurations(d){
    var height = Math.max(1, d.vendors.length) * ROW + 4;
    var p95s = d.vendors.map(function(v){ return v.p95; });
    var longest = Math.max.apply(null, [0].concat(p95s)) || 1;
    var scale = (W - L - FIGURES) / longest;
    var root = frame('chart-durations', height, 'Duration p50 and p95 per vendor');
    d.vendors.forEach(function(v, n){
      var y = n * ROW + 4, g = svg('g', {'class': 'spread', 'data-vendor': v.vendor});
      g.appendChild(svg('text', {'class': 'label', x: 0, y: y + 12}, v.vendor));
      ['p95', 'p50'].forEach(function(k){
        var r = svg('rect', {'class': 'bar ' + k, 'data-series': v.vendor + '|' + k,
          'data-seconds': v[k], x: L, y: y, width: Math.max(1, v[k] * scale).toFixed(1),
          height: 16});
        r.appendChild(svg('title', {}, v.vendor + ' · ' + k + ': ' + seconds(v[k])));
        g.appendChild(r);
      });
      g.appendChild(svg('text', {'class': 'fig-text', x: (L + v.p95 * scale + 6).toFixed(1),
        y: y + 12}, 'p50 ' + seconds(v.p50) + ' · p95 ' + seconds(v.p95) + ' · ' + v.count +
        ' finished'));
      root.appendChild(g);
    });
    if (!d.vendors.length) empty(root);
    return root;
  }
  function coverage(d){
    return d.exact ? '' : ' Complete from ' + String(d.complete_from).slice(11, 16) +
                          ' UTC: the window holds more than one read takes.';
  }
  function refreshCharts(){
    var q = '?hours=' + hours;
    return Promise.all([get('/api/stats/finished' + q), get('/api/stats/durations' + q)])
      .then(function(got){
        $('chart-finished').replaceWith(drawFinished(got[0]));
        $('chart-durations').replaceWith(drawDurations(got[1]));
        document.querySelector('#fig-finished .coverage').textContent = coverage(got[0]);
        document.querySelector('#fig-durations .coverage').textContent = coverage(got[1]);
        body.dataset.chartsDrawn = String(Number(body.dataset.chartsDrawn || 0) + 1);
      }).catch(function(){});
  }

  // -- every few seconds ---------------------------------------------------------------------
  function refresh(){
    if (!view.paged) refreshTable();
    refreshCounts(); refreshAudit();
    if (view.detail) detail(view.detail);
  }
  if (every > 0) {
    setInterval(refresh, every * 1000);
    setInterval(refreshCharts, Math.max(30, every) * 1000);
  }
  window.taskhubPage = {refreshCharts: refreshCharts, refresh: refresh};
})();
"""
