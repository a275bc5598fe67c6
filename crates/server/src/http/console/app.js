// The Strata web console (served at /console/app.js). Every few seconds it reads
// /metrics (Prometheus text) and the admin views under /api/v1/ of the compute node
// that served the page, computes throughput and latency between two reads over the
// node's own clock (strata_uptime_seconds), and redraws the page. No library, no
// network beyond this node; everything is built with DOM calls and textContent, so
// nothing the node returns (statement texts) is ever parsed as HTML.
//
// The browser authenticates: GET / asks for HTTP basic credentials, and the browser
// sends them again with these same-origin requests. For tests and for an operator's
// eyes the page reports its own health in the DOM: <body data-refreshes data-errors
// data-api-failures>, and #console-errors lists every script error.
'use strict';

(function () {
  // ---- Error capture: every script error is shown and counted in the DOM. ----
  let errorCount = 0;
  function reportError(message) {
    errorCount += 1;
    document.body.dataset.errors = String(errorCount);
    const list = document.getElementById('console-errors');
    if (list) {
      const li = document.createElement('li');
      li.textContent = message;
      list.appendChild(li);
      list.hidden = false;
    }
  }
  window.addEventListener('error', (e) => {
    reportError('error: ' + (e.message || e.type) + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', (e) => {
    reportError('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : String(e.reason)));
  });
  const consoleError = console.error.bind(console);
  console.error = function (...args) {
    reportError('console.error: ' + args.map(String).join(' '));
    consoleError(...args);
  };

  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  // Samples kept for the charts (at the default 3 s refresh: 6 minutes).
  const KEEP = 120;
  // Characters of a statement shown in a table cell.
  const SQL_SHOWN = 160;

  // ---- Fetching ----
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  let apiFailures = 0;

  // Absolute URLs: a page opened as http://user:pass@host/ may not fetch relative ones.
  async function get(path) {
    const response = await fetch(window.location.origin + path, {
      cache: 'no-store',
      credentials: 'same-origin',
    });
    const text = await response.text();
    if (!response.ok) {
      let message = 'HTTP ' + response.status;
      try {
        message = JSON.parse(text).error.message || message;
      } catch (_) {
        // Not the API's JSON error: keep the status.
      }
      throw new ApiError(response.status, path + ': ' + message);
    }
    return text;
  }

  async function view(name) {
    return JSON.parse(await get('/api/v1/' + name));
  }

  // ---- Prometheus text format ----
  function parseMetrics(text) {
    const samples = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const raw of text.split('\n')) {
      if (raw === '' || raw.startsWith('#')) continue;
      const m = line.exec(raw);
      if (!m) continue;
      const labels = {};
      if (m[2]) {
        for (const l of m[2].matchAll(label)) labels[l[1]] = l[2];
      }
      const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
      samples.push({ name: m[1], labels, value });
    }
    return samples;
  }

  function sum(samples, name) {
    return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  }

  // What one read of /metrics says, reduced to what the page charts.
  function snapshot(samples) {
    const buckets = samples
      .filter((s) => s.name === 'strata_statement_duration_seconds_bucket')
      .map((s) => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
      .sort((a, b) => a[0] - b[0]);
    return {
      t: sum(samples, 'strata_uptime_seconds'),
      statements: sum(samples, 'strata_statements_total'),
      errors: sum(samples, 'strata_statement_errors_total'),
      durationSum: sum(samples, 'strata_statement_duration_seconds_sum'),
      durationCount: sum(samples, 'strata_statement_duration_seconds_count'),
      buckets,
      connections: sum(samples, 'strata_client_connections'),
      inDoubt: sum(samples, 'strata_xa_in_doubt_transactions'),
    };
  }

  // The q-quantile of the latencies between two snapshots, interpolated inside its
  // bucket as Prometheus's histogram_quantile does; seconds.
  function quantile(q, before, after) {
    const deltas = after.buckets.map(([le, count], i) => [le, count - (before.buckets[i] ? before.buckets[i][1] : 0)]);
    const total = deltas.length ? deltas[deltas.length - 1][1] : 0;
    if (total <= 0) return null;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [le, count] of deltas) {
      if (count >= rank) {
        if (le === Infinity) return lower;
        return lower + ((le - lower) * (rank - below)) / Math.max(count - below, 1e-9);
      }
      lower = le;
      below = count;
    }
    return lower;
  }

  // ---- State ----
  // The tiles show rates over this many seconds of the node's clock (or since the
  // page opened), the charts one point per refresh.
  const TILE_WINDOW_S = 10;
  const series = { throughput: [], avg: [], p99: [] };
  let snapshots = [];
  let refreshes = 0;

  // Rates between two snapshots; null when there is nothing to compare.
  function rates(before, after) {
    if (!before || after.t <= before.t) return null;
    const dt = after.t - before.t;
    const count = after.durationCount - before.durationCount;
    const p99 = quantile(0.99, before, after);
    return {
      t: after.t,
      throughput: (after.statements - before.statements) / dt,
      errors: (after.errors - before.errors) / dt,
      avgMs: count > 0 ? ((after.durationSum - before.durationSum) / count) * 1000 : null,
      p99Ms: p99 === null ? null : p99 * 1000,
    };
  }

  // Keeps `current`; returns the rates since the previous snapshot (for the charts)
  // and over the tiles' window.
  function record(current) {
    const last = snapshots[snapshots.length - 1];
    if (last && (current.t < last.t || current.statements < last.statements)) {
      // The node restarted: start afresh.
      snapshots = [];
    }
    const previous = snapshots[snapshots.length - 1];
    const oldest = snapshots.find((s) => s.t >= current.t - TILE_WINDOW_S) || previous;
    snapshots.push(current);
    while (snapshots.length > 2 && snapshots[1].t < current.t - TILE_WINDOW_S) snapshots.shift();
    return { step: rates(previous, current), recent: rates(oldest, current) };
  }

  function push(list, t, v) {
    list.push({ t, v });
    while (list.length > KEEP) list.shift();
  }

  // ---- Formatting ----
  function fmtNumber(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    return v.toFixed(digits);
  }

  function fmtDuration(seconds) {
    const s = Math.floor(seconds);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + 'd' + (h ? ' ' + h + 'h' : '');
    if (h > 0) return h + 'h' + (m ? ' ' + m + 'm' : '');
    if (m > 0) return m + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
    return s + 's';
  }

  function setValue(id, value, digits) {
    const el = $(id);
    el.textContent = fmtNumber(value, digits);
    el.dataset.value = value === null || value === undefined ? '' : String(value);
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Badge colour of a status word of the views.
  const STATUS = {
    ok: 'ok', up: 'ok', ONLINE: 'ok', finished: 'ok',
    unknown: 'warn', lagging: 'warn', running: 'warn', OFFLINE: 'warn',
  };
  function statusClass(status) {
    return STATUS[status] || 'bad';
  }

  // A table from rows of objects: columns are [key, heading, kind] where kind is a
  // cell class ('num', 'sql', 'nowrap') or a function (row, cell -> Node or text).
  function renderTable(table, columns, rows, emptyText) {
    table.replaceChildren();
    const head = el('tr');
    for (const [, heading] of columns) head.appendChild(el('th', null, heading));
    table.appendChild(el('thead')).appendChild(head);
    const body = table.appendChild(el('tbody'));
    if (rows.length === 0) {
      const td = el('td', 'none', emptyText);
      td.colSpan = columns.length;
      body.appendChild(el('tr')).appendChild(td);
      return;
    }
    for (const row of rows) {
      const tr = body.appendChild(el('tr'));
      for (const [key, , kind] of columns) {
        if (typeof kind === 'function') {
          const td = tr.appendChild(el('td'));
          const v = kind(row, td);
          if (v instanceof Node) td.appendChild(v);
          else if (v !== undefined && v !== null) td.textContent = String(v);
          continue;
        }
        const v = row[key];
        const text = v === null || v === undefined ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v);
        const td = tr.appendChild(el('td', kind || null, text));
        if (kind === 'sql' && text.length > SQL_SHOWN) {
          // Long statements are cut; the whole text is in the tooltip.
          td.textContent = text.slice(0, SQL_SHOWN) + '…';
          td.title = text;
        }
      }
    }
  }

  // ---- Charts: hand-drawn SVG line charts ----
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function drawChart(target, lines) {
    const W = 600;
    const H = 180;
    const left = 46;
    const right = 8;
    const top = 10;
    const bottom = 22;
    target.replaceChildren();
    const points = lines.flatMap((l) => l.points).filter((p) => p.v !== null);
    if (points.length < 1) {
      target.appendChild(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'collecting samples…'));
      return;
    }
    const tMax = Math.max(...points.map((p) => p.t));
    const tMin = Math.min(...points.map((p) => p.t), tMax - 60);
    const yMax = niceMax(Math.max(...points.map((p) => p.v)));
    const x = (t) => left + ((t - tMin) / Math.max(tMax - tMin, 1e-9)) * (W - left - right);
    const y = (v) => top + (1 - v / yMax) * (H - top - bottom);
    for (const f of [0, 0.5, 1]) {
      const gy = y(yMax * f);
      target.appendChild(svg('line', { x1: left, x2: W - right, y1: gy, y2: gy, class: 'grid' }));
      target.appendChild(svg('text', { x: left - 6, y: gy + 4, 'text-anchor': 'end', class: 'axis-label' }, fmtNumber(yMax * f, Number.isInteger(yMax * f) ? 0 : 1)));
    }
    target.appendChild(svg('text', { x: left, y: H - 5, class: 'axis-label' }, '-' + fmtDuration(tMax - tMin)));
    target.appendChild(svg('text', { x: W - right, y: H - 5, 'text-anchor': 'end', class: 'axis-label' }, 'now'));
    lines.forEach((line, i) => {
      const pts = line.points.filter((p) => p.v !== null);
      if (pts.length === 0) return;
      const coords = pts.map((p) => x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1));
      if (pts.length === 1) coords.push((x(pts[0].t) - 4).toFixed(1) + ',' + y(pts[0].v).toFixed(1));
      if (i === 0) {
        const area = coords.concat([x(pts[pts.length - 1].t).toFixed(1) + ',' + y(0), x(pts[0].t).toFixed(1) + ',' + y(0)]);
        target.appendChild(svg('polygon', { points: area.join(' '), class: 'area s0' }));
      }
      target.appendChild(svg('polyline', { points: coords.join(' '), class: 'series s' + i }));
    });
  }

  // ---- Sections ----
  function renderServer(server) {
    const info = Object.fromEntries(server.map((r) => [r.name, r.value]));
    $('node-id').textContent = info.node_id || '–';
    $('version').textContent = info.strata_version || '–';
    $('uptime').textContent = info.uptime_s ? fmtDuration(Number(info.uptime_s)) : '–';
    const state = $('state');
    state.textContent = info.state || '–';
    state.className = 'badge ' + statusClass(info.state);
    return info;
  }

  function renderTopology(info, datanodes, datasources, sessionCount) {
    const root = $('topology');
    root.replaceChildren();
    const compute = root.appendChild(el('div', 'compute-node'));
    compute.id = 'compute-node';
    compute.dataset.nodeId = info.node_id || '';
    compute.appendChild(el('div', 'name', 'Compute node ' + (info.node_id || '')));
    compute.appendChild(el('div', 'detail',
      window.location.hostname + ':' + (info.service_port || '?') + ' · ' + (info.state || '') +
      ' · ' + sessionCount + ' session' + (sessionCount === 1 ? '' : 's') +
      ' · ' + (info.worker_threads || '?') + ' worker threads'));
    root.appendChild(el('div', 'trunk'));
    const nodes = root.appendChild(el('div', 'data-nodes'));
    for (const dn of datanodes) {
      const card = nodes.appendChild(el('div', 'data-node ' + statusClass(dn.status)));
      card.dataset.dnid = String(dn.dnid);
      card.dataset.status = dn.status;
      const title = card.appendChild(el('h3', null, 'Data node ' + dn.dnid + ' '));
      title.appendChild(el('span', 'badge ' + statusClass(dn.status), dn.status));
      card.appendChild(el('div', 'detail', 'databases: ' + (dn.databases || '—')));
      card.appendChild(el('div', 'detail',
        fmtNumber(dn.statements_per_s, 1) + ' stmt/s · ' + dn.statements + ' statements'));
      const bar = card.appendChild(el('div', 'pool-bar'));
      const used = bar.appendChild(el('div'));
      used.style.width = (dn.pool_max > 0 ? Math.min(100, (100 * dn.pool_active) / dn.pool_max) : 0) + '%';
      card.appendChild(el('div', 'detail',
        'pool ' + dn.pool_active + ' active · ' + dn.pool_idle + ' idle · ' + dn.pool_max + ' max' +
        (dn.pool_waiters > 0 ? ' · ' + dn.pool_waiters + ' waiting' : '')));
      const list = card.appendChild(el('ul', 'storage-nodes'));
      for (const ds of datasources.filter((s) => s.dnid === dn.dnid)) {
        const li = list.appendChild(el('li'));
        li.dataset.role = ds.role;
        li.dataset.status = ds.status;
        const left = li.appendChild(el('span'));
        left.appendChild(el('span', 'role', ds.role + ' '));
        left.appendChild(el('span', 'addr', ds.host + ':' + ds.port));
        const right = li.appendChild(el('span'));
        if (ds.lag_ms !== null && ds.lag_ms !== undefined) right.appendChild(el('span', 'role', 'lag ' + ds.lag_ms + ' ms '));
        right.appendChild(el('span', 'badge ' + statusClass(ds.status), ds.status));
        if (ds.last_error) li.title = ds.last_error;
      }
    }
  }

  function renderSessions(sessions) {
    $('sessions-count').textContent = '(' + sessions.length + ')';
    renderTable($('sessions'), [
      ['id', 'id', 'num'],
      ['user', 'user'],
      ['host', 'host'],
      ['db', 'db'],
      ['state', 'state'],
      ['in_transaction', 'in txn', (r) => (r.in_transaction ? 'yes' : '')],
      ['data_nodes', 'data nodes'],
      ['time_s', 'time s', 'num'],
      ['statement', 'statement', 'sql'],
    ], sessions, 'no client session');
  }

  function renderDigests(digests) {
    renderTable($('digests'), [
      ['digest', 'digest', 'sql'],
      ['count', 'count', 'num'],
      ['errors', 'errors', 'num'],
      ['total_ms', 'total ms', 'num'],
      ['avg_ms', 'avg ms', 'num'],
      ['p99_ms', 'p99 ms', 'num'],
      ['nodes_per_execution', 'nodes', 'num'],
    ], digests.slice(0, 10), 'no statement yet');
  }

  function renderSlow(slow) {
    renderTable($('slow'), [
      ['time', 'time', 'nowrap'],
      ['user', 'user'],
      ['duration_ms', 'ms', 'num'],
      ['data_nodes', 'nodes'],
      ['statement', 'statement', 'sql'],
    ], slow.slice(0, 10), 'no slow statement');
  }

  function renderXa(xa) {
    renderTable($('xa'), [
      ['xid', 'xid', 'sql'],
      ['state', 'state'],
      ['data_nodes', 'data nodes'],
      ['time', 'since', 'nowrap'],
      ['age_s', 'age s', 'num'],
    ], xa, 'no in-doubt transaction');
  }

  function renderTables(tables, datanodes) {
    const dnids = datanodes.map((d) => d.dnid);
    const columns = [
      ['database', 'database'],
      ['table', 'table'],
      ['type', 'type'],
      ['rule', 'rule'],
      ['key', 'key'],
    ];
    for (const dnid of dnids) {
      columns.push(['', 'dn ' + dnid, (row, td) => {
        const on = String(row.data_nodes || '').split(',').includes(String(dnid));
        td.className = on ? 'placed' : '';
        return on ? '●' : '';
      }]);
    }
    renderTable($('tables'), columns, tables, 'no table');
  }

  function renderJobs(jobs) {
    renderTable($('jobs'), [
      ['id', 'id', 'num'],
      ['kind', 'kind'],
      ['state', 'state', (r) => el('span', 'badge ' + statusClass(r.state), r.state)],
      ['progress_pct', 'progress', (r, td) => {
        td.className = 'nowrap';
        const wrap = el('span');
        const bar = wrap.appendChild(el('span', 'progress' + (r.state === 'failed' ? ' failed' : '')));
        bar.appendChild(el('div')).style.width = Math.max(0, Math.min(100, r.progress_pct)) + '%';
        wrap.appendChild(document.createTextNode(Math.round(r.progress_pct) + ' %'));
        return wrap;
      }],
      ['started', 'started', 'nowrap'],
      ['eta_s', 'eta', (r) => (r.eta_s === null ? '' : fmtDuration(r.eta_s))],
      ['description', 'work', 'sql'],
      ['last_error', 'last error', 'sql'],
    ], jobs.slice(0, 20), 'no job');
  }

  function renderRates(current, { step, recent }) {
    setValue('statements-total', current.statements, 0);
    setValue('connections', current.connections, 0);
    setValue('xa-in-doubt', current.inDoubt, 0);
    $('xa-tile').classList.toggle('bad', current.inDoubt > 0);
    if (recent) {
      setValue('throughput', recent.throughput, 1);
      setValue('latency-avg', recent.avgMs, 2);
      setValue('latency-p99', recent.p99Ms, 2);
      setValue('error-rate', recent.errors, 2);
      $('errors-tile').classList.toggle('bad', recent.errors > 0);
    }
    if (step) {
      push(series.throughput, step.t, step.throughput);
      push(series.avg, step.t, step.avgMs);
      push(series.p99, step.t, step.p99Ms);
    }
    drawChart($('chart-throughput'), [{ points: series.throughput }]);
    drawChart($('chart-latency'), [{ points: series.avg }, { points: series.p99 }]);
  }

  // ---- The refresh loop ----
  const VIEWS = ['server', 'datanodes', 'datasources', 'sessions', 'digests', 'slow', 'xa', 'tables', 'jobs'];
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const results = await Promise.allSettled([get('/metrics'), ...VIEWS.map(view)]);
      const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
      const data = {};
      VIEWS.forEach((name, i) => {
        const r = results[i + 1];
        data[name] = r.status === 'fulfilled' && Array.isArray(r.value) ? r.value : null;
      });
      if (results[0].status === 'fulfilled') {
        const current = snapshot(parseMetrics(results[0].value));
        renderRates(current, record(current));
      }
      const info = data.server ? renderServer(data.server) : {};
      if (data.datanodes && data.datasources) {
        renderTopology(info, data.datanodes, data.datasources, data.sessions ? data.sessions.length : 0);
      }
      if (data.sessions) renderSessions(data.sessions);
      if (data.digests) renderDigests(data.digests);
      if (data.slow) renderSlow(data.slow);
      if (data.xa) renderXa(data.xa);
      if (data.tables && data.datanodes) renderTables(data.tables, data.datanodes);
      if (data.jobs) renderJobs(data.jobs);
      const banner = $('banner');
      if (failed.length > 0) {
        apiFailures += failed.length;
        document.body.dataset.apiFailures = String(apiFailures);
        const unauthorized = failed.some((e) => e instanceof ApiError && (e.status === 401 || e.status === 403));
        banner.textContent = unauthorized
          ? 'Not authorized: reload the page and sign in with an account that has the SUPER privilege.'
          : 'Some data could not be read: ' + failed.map((e) => e.message).join('; ');
        banner.hidden = false;
      } else {
        banner.hidden = true;
      }
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
      $('refreshed').textContent = new Date().toLocaleTimeString('en-GB');
    } finally {
      busy = false;
    }
  }

  let timer = null;
  function schedule() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    const seconds = Number($('interval').value);
    if (seconds > 0) {
      timer = setInterval(() => {
        if (document.visibilityState !== 'hidden') refresh();
      }, seconds * 1000);
    }
  }

  function start() {
    $('interval').addEventListener('change', () => {
      schedule();
      refresh();
    });
    refresh();
    schedule();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
