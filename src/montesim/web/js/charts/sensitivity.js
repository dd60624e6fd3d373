// Sensitivity charts: tornado bars (rank correlation or share of variance), spider lines,
// and a correlation heat map.

import { s } from "../dom.js";
import { CHAR_PX, COLORS, axes, chartWidth, extent, fittedTicks, linear, padded, plotBox, short, svgRoot } from "./core.js";

/**
 * Horizontal bars [{label, value}] sorted as given. `signed` bars grow both ways from 0
 * (rank correlations, -1..1); otherwise from 0 to the right (shares, 0..1).
 */
export function barsSvg(items, { title, signed = true, format = (v) => v.toFixed(2), kind = "tornado", axisTitle } = {}) {
  const rows = items.filter((it) => Number.isFinite(it.value));
  if (!rows.length) return null;
  const labelW = Math.min(210, Math.max(60, Math.max(...rows.map((r) => r.label.length)) * 7.4 + 20));
  const rowH = 26;
  const width = chartWidth(480);
  const height = 40 + rows.length * rowH + 36;
  const box = plotBox(width, height, { top: 12, right: 56, bottom: 40, left: labelW });
  const maxAbs = Math.max(...rows.map((r) => Math.abs(r.value))) || 1;
  const lim = Math.min(1, Math.ceil(maxAbs * 10) / 10);
  const x = linear(signed ? [-lim, lim] : [0, lim], [box.left, box.right]);
  const y = linear([0, rows.length], [box.top, box.bottom]);
  const zero = x(0);
  const fmtAxis = signed ? (v) => (+v.toFixed(2)).toString() : (v) => `${Math.round(v * 100)}%`;
  return svgRoot(width, height, title || "Sensitivity", kind,
    axes(box, x, linear([0, 1], [box.bottom, box.top]), { xFormat: fmtAxis, yTicks: [], xTitle: axisTitle }),
    s("line", { x1: zero, x2: zero, y1: box.top, y2: box.bottom, class: "axis" }),
    rows.map((r, i) => {
      const y0 = y(i) + 4;
      const h = rowH - 8;
      const x1 = x(r.value);
      const left = Math.min(zero, x1);
      const pos = r.value >= 0;
      return s("g", { class: "bar-row", dataset: { input: r.label, value: String(r.value) } },
        s("text", { x: box.left - 8, y: y0 + h / 2 + 4, "text-anchor": "end", class: "row-label" }, r.label),
        s("rect", { x: left, y: y0, width: Math.max(1, Math.abs(x1 - zero)), height: h, class: pos ? "bar pos" : "bar neg" },
          s("title", {}, `${r.label}: ${format(r.value)}`)),
        s("text", { x: pos ? x1 + 4 : x1 - 4, y: y0 + h / 2 + 4, "text-anchor": pos ? "start" : "end", class: "bar-value" }, format(r.value)));
    }));
}

/** Spider plot: per input, the output mean's change across the input's percentile bins. */
export function spiderSvg(spider, { title, yTitle = "change in mean" } = {}) {
  const lines = (spider || []).filter((sp) => sp.points?.length >= 2);
  if (!lines.length) return null;
  const width = chartWidth(560);
  // Legend below the plot: as many rows as the names need at ~4 per row.
  const perRow = width < 500 ? 2 : 3;
  const legendRows = Math.ceil(lines.length / perRow);
  const plotH = 300;
  const height = plotH + legendRows * 18 + 8;
  const box = plotBox(width, plotH, { top: 16, right: 20, bottom: 46, left: 60 });
  box.height = plotH;
  const x = linear([0, 100], [box.left, box.right]);
  const y = linear(padded(extent(lines.flatMap((l) => l.points.map((p) => p.delta_mean))), 0.05), [box.bottom, box.top]);
  return svgRoot(width, height, title || "Spider plot", "spider",
    axes(box, x, y, { xTitle: "input percentile", yTitle, xFormat: (v) => `${v}%`, xTicks: [0, 25, 50, 75, 100] }),
    s("line", { x1: box.left, x2: box.right, y1: y(0), y2: y(0), class: "axis" }),
    lines.map((l, i) => s("g", { class: "spider-line", dataset: { series: l.input } },
      s("path", { class: "series", stroke: COLORS[i % COLORS.length],
        d: l.points.map((p, j) => `${j ? "L" : "M"}${x(p.percentile).toFixed(1)},${y(p.delta_mean).toFixed(1)}`).join("") },
      s("title", {}, l.input)),
      l.points.map((p) => s("circle", { cx: x(p.percentile), cy: y(p.delta_mean), r: 2.5, fill: COLORS[i % COLORS.length] })))),
    lines.map((l, i) => {
      const lx = box.left + (i % perRow) * ((box.right - box.left) / perRow);
      const ly = plotH + 6 + Math.floor(i / perRow) * 18;
      return s("g", { class: "legend-item" },
        s("rect", { x: lx, y: ly, width: 14, height: 4, fill: COLORS[i % COLORS.length] }),
        s("text", { x: lx + 20, y: ly + 6, class: "legend-text" }, l.input.length > 24 ? `${l.input.slice(0, 23)}…` : l.input));
    }));
}

function heatColor(v) {
  if (v === null || v === undefined) return "#9ca3af";
  // blue (negative) through white to red (positive)
  const t = Math.max(-1, Math.min(1, v));
  const mix = (a, b, f) => Math.round(a + (b - a) * f);
  return t >= 0 ? `rgb(${mix(255, 200, t)},${mix(255, 40, t)},${mix(255, 40, t)})`
    : `rgb(${mix(255, 37, -t)},${mix(255, 99, -t)},${mix(255, 235, -t)})`;
}

/** A square matrix of correlations {names, matrix} as a heat map with values written in. */
export function heatmapSvg({ names, matrix }, { title } = {}) {
  if (!names?.length || !matrix?.length) return null;
  const labelW = Math.min(190, Math.max(...names.map((n) => n.length)) * 7.4 + 16);
  const cell = Math.max(34, Math.min(56, Math.floor(420 / names.length)));
  const width = labelW + cell * names.length + 20;
  const height = 20 + cell * names.length + labelW * 0.75;
  return svgRoot(width, height, title || "Correlation matrix", "heatmap",
    names.map((rowName, i) => s("g", {},
      s("text", { x: labelW - 8, y: 10 + i * cell + cell / 2 + 4, "text-anchor": "end", class: "row-label" }, rowName),
      names.map((colName, j) => {
        const v = matrix[i]?.[j];
        const cx = labelW + j * cell;
        const cy = 10 + i * cell;
        return s("g", { class: "heat-cell", dataset: { row: rowName, col: colName, value: v === null ? "" : String(v) } },
          s("rect", { x: cx, y: cy, width: cell - 2, height: cell - 2, fill: heatColor(v), rx: 3 },
            s("title", {}, `${rowName} × ${colName}: ${v === null ? "undefined" : v.toFixed(3)}`)),
          s("text", { x: cx + (cell - 2) / 2, y: cy + cell / 2 + 3, "text-anchor": "middle",
            class: Math.abs(v ?? 0) > 0.6 ? "heat-text strong" : "heat-text" }, v === null ? "—" : v.toFixed(2)));
      }))),
    names.map((colName, j) => {
      const cx = labelW + j * cell + cell / 2;
      const cy = 14 + cell * names.length;
      return s("text", { x: cx, y: cy, "text-anchor": "end", class: "row-label", transform: `rotate(-40 ${cx} ${cy})` }, colName);
    }));
}

/** A small histogram for the input grid, no y axis. */
export function miniHistogramSvg({ edges, counts }, { title, mean } = {}) {
  if (!edges?.length || !counts?.length) return null;
  const width = 320;
  const height = 150;
  const box = plotBox(width, height, { top: 8, right: 12, bottom: 28, left: 12 });
  const x = linear(padded([edges[0], edges[edges.length - 1]]), [box.left, box.right]);
  const top = Math.max(...counts) || 1;
  const y = linear([0, top], [box.bottom, box.top]);
  return svgRoot(width, height, title ? `Sampled distribution of ${title}` : "Sampled distribution", "input-histogram",
    axes(box, x, y, { yTicks: [], xTicks: fittedTicks(x.domain[0], x.domain[1], box.right - box.left, short) }),
    s("g", { class: "bars" }, counts.map((c, i) => s("rect", { x: x(edges[i]).toFixed(2), y: y(c).toFixed(2),
      width: Math.max(0.6, x(edges[i + 1]) - x(edges[i]) - 0.5).toFixed(2), height: (y(0) - y(c)).toFixed(2), class: "bar",
      dataset: { count: String(c) } }))),
    Number.isFinite(mean) ? s("line", { x1: x(mean), x2: x(mean), y1: box.top, y2: box.bottom, class: "marker-line mean" }) : null);
}
