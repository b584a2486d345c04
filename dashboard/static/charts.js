// charts.js: draws an Apache ECharts chart from the data table inside each
// <figure class="chart" data-chart="bar|hbar|line|stack">. The table stays the
// source of truth (print, no JS, screen readers); every text comes from the
// DOM, so translation stays on the server. It loads vendor/echarts/echarts.min.js
// itself after the first paint; without it the tables alone show the numbers.
(() => {
  'use strict';

  const drawn = new Map(); // figure -> {chart, canvas, ro, mo, sig, links, cats}
  const reducedMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)');

  function formatterFor(name) {
    const nf = (d) => new Intl.NumberFormat(document.documentElement.lang || 'zh-CN', {maximumFractionDigits: d});
    const int = nf(0);
    const yuan = nf(2);
    const f = {
      percent: (v) => (v * 100).toFixed(1) + '%',
      int: (v) => int.format(v),
      yuan: (v) => (v < 0 ? '-¥' : '¥') + yuan.format(Math.abs(v)),
    }[name];
    return f && ((v) => (v == null || Number.isNaN(v) ? '' : f(v)));
  }

  // A cell's number: data-value, else its text ("93.1%", "1,234", "¥5").
  function cellValue(cell) {
    if (!cell) return null;
    const raw = cell.getAttribute('data-value');
    if (raw != null) {
      const n = raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(n) ? n : null;
    }
    const t = cell.textContent.trim();
    const n = Number(t.replace(/[\s,¥￥%]/g, ''));
    if (t === '' || !Number.isFinite(n)) return null;
    return t.includes('%') ? n / 100 : n;
  }

  const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');

  function readTable(table) {
    const headRow = table.tHead?.rows[table.tHead.rows.length - 1];
    const heads = headRow ? Array.from(headRow.cells) : [];
    const series = heads.slice(1).map((th) => {
      const t = parseFloat(th.getAttribute('data-target'));
      return {name: text(th), data: [], target: Number.isFinite(t) ? t : null};
    });
    const cats = [];
    const links = [];
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        const cells = row.cells;
        if (!cells.length) continue;
        cats.push(text(cells[0]));
        links.push(cells[0].querySelector('a[href]')?.href || null);
        series.forEach((s, i) => s.data.push(cellValue(cells[i + 1])));
      }
    }
    return {cats, links, series};
  }

  function buildOption(kind, format, data, style) {
    const fmt = formatterFor(format);
    const horizontal = kind === 'hbar';
    const isBar = kind !== 'line';
    const values = data.series.flatMap((s) => s.data).filter((v) => v != null);
    const catAxis = {
      type: 'category',
      data: data.cats,
      inverse: horizontal, // first row on top, as in the table
      triggerEvent: true,
      axisTick: {alignWithLabel: true},
    };
    const valAxis = {type: 'value', axisLabel: {formatter: fmt}};
    if (format === 'percent' && values.length && values.every((v) => v >= 0 && v <= 1)) {
      valAxis.min = 0;
      valAxis.max = 1;
    }
    const many = data.series.length > 1;
    return {
      animation: !reducedMotion?.matches,
      textStyle: {fontFamily: style.fontFamily},
      grid: {left: 8, right: horizontal ? 24 : 16, top: many ? 36 : 16, bottom: 8, containLabel: true},
      legend: {show: many, top: 0, textStyle: {color: style.color}},
      tooltip: {
        trigger: 'axis',
        axisPointer: {type: isBar ? 'shadow' : 'line'},
        valueFormatter: fmt,
        textStyle: {fontFamily: style.fontFamily},
      },
      xAxis: horizontal ? valAxis : catAxis,
      yAxis: horizontal ? catAxis : valAxis,
      series: data.series.map((s) => {
        const out = {
          type: isBar ? 'bar' : 'line',
          name: s.name,
          data: s.data,
          cursor: data.links.some(Boolean) ? 'pointer' : 'default',
        };
        if (kind === 'stack') out.stack = 'total';
        if (s.target != null) {
          out.markLine = {
            silent: true,
            symbol: 'none',
            lineStyle: {type: 'dashed'},
            label: {position: horizontal ? 'start' : 'insideEndTop', formatter: fmt ? (p) => fmt(p.value) : undefined},
            data: [horizontal ? {xAxis: s.target} : {yAxis: s.target}],
          };
        }
        return out;
      }),
    };
  }

  function figureStyle(fig) {
    const cs = getComputedStyle(fig); // the page's (system) fonts, no web fonts
    return {fontFamily: cs.fontFamily || getComputedStyle(document.body).fontFamily, color: cs.color};
  }

  function onClick(fig, p) {
    const st = drawn.get(fig);
    if (!st) return;
    let i = p.dataIndex;
    if (p.componentType === 'xAxis' || p.componentType === 'yAxis') i = st.cats.indexOf(p.value);
    const href = st.links[i];
    if (href) window.location.assign(href);
  }

  function draw(fig) {
    const canvas = fig.querySelector('.chart-canvas');
    const table = fig.querySelector('table');
    const kind = fig.getAttribute('data-chart');
    if (!canvas || !table || !['bar', 'hbar', 'line', 'stack'].includes(kind)) return;
    const data = readTable(table);
    const format = fig.getAttribute('data-format') || '';
    const style = figureStyle(fig);
    const sig = JSON.stringify([kind, format, data, style]);
    let st = drawn.get(fig);
    if (st && st.canvas !== canvas) {
      forget(fig);
      st = null;
    }
    if (st && st.sig === sig) return;
    if (!st) {
      const chart = window.echarts.init(canvas, null, {renderer: 'svg'});
      chart.on('click', (p) => onClick(fig, p));
      const ro = new ResizeObserver(() => chart.resize());
      ro.observe(canvas);
      const mo = new MutationObserver((records) => {
        if (records.some((r) => !canvas.contains(r.target))) draw(fig);
      });
      mo.observe(fig, {
        subtree: true, childList: true, characterData: true,
        attributes: true, attributeFilter: ['data-value', 'data-target', 'data-chart', 'data-format', 'href'],
      });
      st = {chart, canvas, ro, mo};
      drawn.set(fig, st);
    }
    Object.assign(st, {sig, links: data.links, cats: data.cats});
    st.chart.setOption(buildOption(kind, format, data, style), {notMerge: true});
    fig.classList.add('chart-drawn');
  }

  function forget(fig) {
    const st = drawn.get(fig);
    if (!st) return;
    st.ro.disconnect();
    st.mo.disconnect();
    st.chart.dispose();
    drawn.delete(fig);
  }

  function drawAll(root = document) {
    if (!window.echarts) return; // the tables still carry the numbers
    for (const fig of drawn.keys()) if (!fig.isConnected) forget(fig);
    const figs = Array.from(root.querySelectorAll?.('figure.chart[data-chart]') || []);
    const own = root.closest?.('figure.chart[data-chart]'); // root inside (or is) a figure
    if (own) figs.unshift(own);
    for (const fig of figs) {
      try {
        draw(fig);
      } catch (e) {
        console.error(e); // one bad chart must not stop the others
      }
    }
  }

  let resizeQueued = false;
  window.addEventListener('resize', () => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      for (const st of drawn.values()) st.chart.resize();
    });
  });

  // Print: the SVG has a fixed pixel size; give it a viewBox so print CSS
  // (e.g. .chart-canvas svg {max-width: 100%; height: auto}) can scale it.
  window.addEventListener('beforeprint', () => {
    for (const st of drawn.values()) {
      const svg = st.canvas.querySelector('svg');
      if (svg && !svg.hasAttribute('viewBox')) {
        svg.setAttribute('viewBox', `0 0 ${st.chart.getWidth()} ${st.chart.getHeight()}`);
      }
    }
  });

  window.AnzhiCharts = {drawAll, refresh: drawAll};

  // ECharts (≈700 KB) is loaded only once the page has painted, and only on
  // a page with charts: parsing it before the first paint would hold the
  // tables back, which carry every number anyway.
  const echartsURL = new URL('vendor/echarts/echarts.min.js', document.currentScript.src).href;
  function loadECharts() {
    if (window.echarts) return drawAll(document);
    if (!document.querySelector('figure.chart[data-chart]')) return;
    const s = document.createElement('script');
    s.src = echartsURL;
    s.onload = () => drawAll(document);
    s.onerror = () => console.error('charts: could not load ' + echartsURL + '; the tables show the numbers');
    document.head.appendChild(s);
  }
  function afterPaint() {
    requestAnimationFrame(() => setTimeout(loadECharts, 0));
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', afterPaint);
  } else {
    afterPaint();
  }
})();
