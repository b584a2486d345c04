// app.js: sortable tables and live updates for the anzhi dashboard.
// No user-visible text here: labels come from the server-rendered DOM.
(() => {
  'use strict';

  // ---- sortable tables -------------------------------------------------
  // <table class="sortable" id="..."> with <th scope="col"><button type="button"
  // class="sort">Label</button></th>. The sort is remembered per table id so a
  // live update that replaces the table keeps it.

  const sorts = new Map(); // table id -> {col, dir}
  const collator = new Intl.Collator('zh-CN', {numeric: true});

  function cellNumber(cell) {
    const raw = cell.getAttribute('data-value');
    if (raw != null) { // data-value="" marks a missing number ("—")
      const n = raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(n) ? n : null;
    }
    const t = cell.textContent.trim();
    if (t === '') return null;
    const n = Number(t.replace(/[\s,¥￥%]/g, ''));
    return Number.isFinite(n) ? n : undefined; // undefined: not a number
  }

  function sortTable(table, col, dir) {
    const headRow = table.tHead?.rows[table.tHead.rows.length - 1];
    if (!headRow || col >= headRow.cells.length) return;
    for (const th of headRow.cells) {
      if (th.querySelector('button.sort')) th.setAttribute('aria-sort', 'none');
    }
    headRow.cells[col].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
    for (const body of table.tBodies) {
      const rows = Array.from(body.rows).map((row) => {
        const cell = row.cells[col];
        return {row, num: cell ? cellNumber(cell) : null, text: cell ? cell.textContent.trim() : ''};
      });
      const numeric = rows.every((r) => r.num !== undefined);
      rows.sort((a, b) => {
        const ea = numeric ? a.num == null : a.text === '';
        const eb = numeric ? b.num == null : b.text === '';
        if (ea || eb) return ea - eb; // empty cells last, either direction
        return dir * (numeric ? a.num - b.num : collator.compare(a.text, b.text));
      });
      for (const r of rows) body.appendChild(r.row);
    }
  }

  document.addEventListener('click', (ev) => {
    const button = ev.target.closest?.('table.sortable th button.sort');
    if (!button) return;
    const th = button.closest('th');
    const table = th.closest('table');
    const col = th.cellIndex;
    const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    sortTable(table, col, dir);
    if (table.id) sorts.set(table.id, {col, dir});
  });

  function reapplySorts(root) {
    const tables = Array.from(root.querySelectorAll('table.sortable[id]'));
    if (root.matches('table.sortable[id]')) tables.unshift(root);
    for (const t of tables) {
      const s = sorts.get(t.id);
      if (s) sortTable(t, s.col, s.dir);
    }
  }

  // ---- live updates ----------------------------------------------------
  // <body data-live="/live?page=..."> names an event stream; each "view" event
  // means the page's view changed: fetch the page again and swap every
  // [data-live-region][id] for its fresh copy.

  let liveURL = null;
  let es = null;
  let stopped = false;
  let state = null;
  let missed = false; // an error since the last open: events may have been lost
  let retryDelay = 5000;
  let retryTimer = 0;
  let inFlight = false;
  let again = false;
  let detail = {version: null, log_seq: null};

  function setStatus(s) {
    state = s;
    const el = document.getElementById('live-status');
    if (!el) return;
    el.setAttribute('data-state', s);
    const t = el.getAttribute('data-text-' + s);
    if (t != null) el.textContent = t;
  }

  function disconnect() {
    clearTimeout(retryTimer);
    es?.close();
    es = null;
  }

  function stop() {
    stopped = true;
    disconnect();
    setStatus('offline');
  }

  function connect() {
    if (stopped || es || !liveURL || document.visibilityState === 'hidden') return;
    es = new EventSource(liveURL);
    es.addEventListener('open', () => {
      retryDelay = 5000;
      setStatus('live');
      if (missed) {
        missed = false;
        refresh();
      }
    });
    es.addEventListener('error', () => {
      missed = true;
      setStatus('offline');
      if (es && es.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error or wrong type): try again later,
        // and let a page fetch find out whether the session ended.
        es = null;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          refresh();
          connect();
        }, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 60000);
      }
    });
    es.addEventListener('view', (ev) => {
      try {
        const d = JSON.parse(ev.data);
        detail = {version: d.version ?? null, log_seq: d.log_seq ?? null};
      } catch (_) {} // a view event without usable data still means: refresh
      refresh();
    });
  }

  async function refresh() {
    if (stopped || !liveURL) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      await fetchAndSwap();
    } catch (_) {
      setStatus('offline'); // next event or reconnect tries again
    } finally {
      inFlight = false;
    }
    if (again && !stopped) {
      again = false;
      refresh();
    }
  }

  async function fetchAndSwap() {
    const seen = {...detail}; // the view this fetch is sure to include
    const res = await fetch(location.href, {
      headers: {'Accept': 'text/html', 'X-Dashboard-Refresh': '1'},
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (res.status === 401 || res.status === 403) {
      stop(); // the session ended
      return;
    }
    if (!res.ok) throw new Error(String(res.status));
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const replaced = [];
    for (const old of document.querySelectorAll('[data-live-region][id]')) {
      if (!old.isConnected) continue; // inside a region already replaced
      const fresh = doc.getElementById(old.id);
      if (!fresh) continue;
      const focus = focusMemo(old);
      const node = document.importNode(fresh, true);
      old.replaceWith(node);
      replaced.push(node);
      if (focus) restoreFocus(node, focus);
    }
    if (doc.title && doc.title !== document.title) document.title = doc.title;
    if (es && es.readyState === EventSource.OPEN) setStatus('live');
    else if (state) setStatus(state); // the status element may have been replaced
    for (const node of replaced) {
      reapplySorts(node);
      window.AnzhiCharts?.refresh(node);
    }
    document.dispatchEvent(new CustomEvent('anzhi:updated', {detail: seen}));
  }

  // Where the focus was inside a region about to be replaced: its id, or
  // (for e.g. a sort button) its index among the region's same-tag elements.
  function focusMemo(region) {
    const a = document.activeElement;
    if (!a || a === document.body || !region.contains(a)) return null;
    if (a.id) return {id: a.id};
    const tag = a.tagName.toLowerCase();
    const cls = a.classList.contains('sort') ? '.sort' : '';
    const all = Array.from(region.querySelectorAll(tag + cls));
    return {sel: tag + cls, index: all.indexOf(a)};
  }

  function restoreFocus(region, memo) {
    let el = null;
    if (memo.id) el = document.getElementById(memo.id);
    else if (memo.index >= 0) el = region.querySelectorAll(memo.sel)[memo.index];
    el?.focus({preventScroll: true});
  }

  document.addEventListener('visibilitychange', () => {
    if (stopped || !liveURL) return;
    if (document.visibilityState === 'hidden') {
      disconnect();
    } else {
      connect();
      refresh();
    }
  });

  function start() {
    liveURL = document.body.getAttribute('data-live');
    if (liveURL) connect();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
