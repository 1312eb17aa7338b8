// Time series charts on uPlot (bundled, no network). A chart fills its box's width and
// follows it (ResizeObserver); colours come from the CSS custom properties, so the charts
// follow the light and dark themes.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function withAlpha(color, alpha) {
  // #rrggbb -> rgba(); anything else is returned as is
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// tick steps for byte scales: 1, 2, 4 … 512 times 1, 1024, 1024² … (round binary sizes)
const BINARY_INCRS = [];
for (let k = 0; k < 6; k += 1) {
  for (let m = 1; m < 1024; m *= 2) BINARY_INCRS.push(m * 1024 ** k);
}

/**
 * A chart in box. series: [{label, color: '--chart-1', fill: true}], fmt(v) formats values
 * (axis and legend), yMax: a fixed minimum top of the scale (e.g. 100 for percent).
 * Returns { setData([xs, ...ys]), destroy() }.
 */
export function timeChart(box, { series, fmt, yMin = 0, yMax = null, height = 180, label, binary = false, minSpan = 60 }) {
  const axisColor = cssVar('--text-muted', '#667085');
  const gridColor = cssVar('--chart-grid', '#e4e7ec');
  const s = [{}].concat(series.map((x) => {
    const stroke = cssVar(x.color, '#2457c5');
    return {
      label: x.label,
      stroke,
      width: 1.5,
      fill: x.fill === false ? undefined : withAlpha(stroke, 0.12),
      points: { show: false },
      // the value under the cursor; the latest one when the cursor is elsewhere
      value: (u, v, si, idx) => {
        let val = v;
        if (idx === null || idx === undefined) {
          const col = u.data[si] || [];
          for (let i = col.length - 1; i >= 0; i -= 1) {
            if (col[i] !== null && col[i] !== undefined) {
              val = col[i];
              break;
            }
          }
        }
        return val === null || val === undefined ? '—' : fmt(val);
      },
      spanGaps: false,
    };
  }));
  const axis = {
    stroke: axisColor,
    grid: { stroke: gridColor, width: 1 },
    ticks: { stroke: gridColor, width: 1 },
    font: '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  };
  const opts = {
    width: Math.max(200, box.clientWidth || 300),
    height,
    series: s,
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    legend: { show: true, live: true },
    scales: {
      x: {
        time: true,
        // at least minSpan seconds wide, so a young series gets sensible time ticks
        range: (u, min, max) => {
          if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
            const now = Date.now() / 1000;
            return [now - minSpan, now];
          }
          return max - min < minSpan ? [max - minSpan, max] : [min, max];
        },
      },
      y: {
        range: (u, min, max) => {
          let top = Math.max(max || 0, yMax || 0);
          if (!Number.isFinite(top) || top <= yMin) top = yMin + 1;
          return [yMin, top * (yMax && top === yMax ? 1 : 1.1)];
        },
      },
    },
    axes: [
      { ...axis },
      {
        ...axis,
        size: 64,
        values: (u, splits) => splits.map((v) => fmt(v)),
        ...(binary ? { incrs: BINARY_INCRS } : {}),
      },
    ],
  };
  const holder = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': label || series.map((x) => x.label).join(', ') });
  box.append(holder);
  const plot = new uPlot(opts, [[], ...series.map(() => [])], holder);
  let lastW = opts.width;
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, Math.floor(box.clientWidth));
    if (w && w !== lastW) {
      lastW = w;
      plot.setSize({ width: w, height });
    }
  });
  ro.observe(box);
  return {
    setData(data) {
      plot.setData(data);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
      holder.remove();
    },
  };
}

/**
 * A series store of (t seconds, values...) points that keeps only the last windowSec
 * seconds; data() is in uPlot's column shape.
 */
export class Series {
  constructor(width, windowSec) {
    this.cols = Array.from({ length: width + 1 }, () => []);
    this.windowSec = windowSec;
  }

  reset(windowSec) {
    for (const c of this.cols) c.length = 0;
    if (windowSec) this.windowSec = windowSec;
  }

  push(t, ...vals) {
    const xs = this.cols[0];
    if (xs.length && t <= xs[xs.length - 1]) {
      // same second again: replace the last point
      if (t === xs[xs.length - 1]) vals.forEach((v, i) => { this.cols[i + 1][xs.length - 1] = v; });
      return;
    }
    xs.push(t);
    vals.forEach((v, i) => this.cols[i + 1].push(v));
    this.trim();
  }

  trim(now) {
    const xs = this.cols[0];
    const cut = (now || (xs.length ? xs[xs.length - 1] : 0)) - this.windowSec;
    let n = 0;
    while (n < xs.length && xs[n] < cut) n += 1;
    if (n) for (const c of this.cols) c.splice(0, n);
  }

  get length() {
    return this.cols[0].length;
  }

  data() {
    return this.cols;
  }
}
