// Small inline SVG charts (no charting library: the page loads nothing from outside).

import { h, s } from "./dom.js";
import { compact } from "./format.js";

const W = 640;
const H = 360;
const M = { top: 16, right: 16, bottom: 48, left: 64 };
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.ticks = () => niceTicks(d0, d1, 5);
  return f;
}

function logScale([d0, d1], [r0, r1]) {
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0 || 1;
  const f = (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0);
  f.ticks = () => {
    const out = [];
    for (let e = Math.ceil(l0 - 1e-9); e <= Math.log10(d1) + 1e-9; e++) out.push(10 ** e);
    return out.length >= 2 ? out : [d0, d1];
  };
  return f;
}

function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function axes(x, y, xTicks, yTicks, { xTitle, yTitle, xFormat = compact, yFormat = compact }) {
  const bottom = H - M.bottom;
  return s(
    "g",
    { class: "axes" },
    s("line", { x1: M.left, x2: W - M.right, y1: bottom, y2: bottom, class: "axis" }),
    s("line", { x1: M.left, x2: M.left, y1: M.top, y2: bottom, class: "axis" }),
    xTicks.map((t) =>
      s("g", {}, s("line", { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 5, class: "axis" }),
        s("text", { x: x(t), y: bottom + 18, "text-anchor": "middle", class: "tick" }, xFormat(t))),
    ),
    yTicks.map((t) =>
      s("g", {}, s("line", { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: "grid" }),
        s("text", { x: M.left - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, yFormat(t))),
    ),
    xTitle && s("text", { x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle", class: "axis-title" }, xTitle),
    yTitle && s("text", { x: 14, y: (M.top + bottom) / 2, "text-anchor": "middle", class: "axis-title",
      transform: `rotate(-90 14 ${(M.top + bottom) / 2})` }, yTitle),
  );
}

/**
 * A line chart of `series` [{name, points: [[x, y], ...]}]; non-positive values are
 * dropped on a log axis. Returns a <figure>, or null when nothing can be drawn.
 */
export function lineChart(series, { title, xTitle, yTitle, xLog = false, yLog = false, yFormat } = {}) {
  const keep = ([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!xLog || px > 0) && (!yLog || py > 0);
  const lines = series.map((sr) => ({ ...sr, points: sr.points.filter(keep) })).filter((sr) => sr.points.length >= 2);
  if (!lines.length) return null;
  const [x0, x1] = extent(lines.flatMap((sr) => sr.points.map((p) => p[0])));
  let [y0, y1] = extent(lines.flatMap((sr) => sr.points.map((p) => p[1])));
  if (yLog) {
    // Whole decades on a log y axis (probabilities: 0.01% … 100%), so it has ticks at both ends.
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  }
  const xr = [M.left, W - M.right];
  const yr = [H - M.bottom, M.top];
  const x = xLog ? logScale([x0, x1], xr) : linearScale([Math.min(0, x0), x1], xr);
  const y = yLog ? logScale([y0, y1], yr) : linearScale([Math.min(0, y0), y1], yr);
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title || "Line chart" },
    axes(x, y, x.ticks(), y.ticks(), { xTitle, yTitle, yFormat }),
    lines.map((sr, i) =>
      s("path", {
        class: "series",
        stroke: PALETTE[i % PALETTE.length],
        d: sr.points.map(([px, py], j) => `${j ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(""),
        dataset: { series: sr.name },
      }, s("title", {}, sr.name)),
    ),
  );
  const legend = h(
    "ul",
    { class: "legend" },
    lines.map((sr, i) => h("li", {}, h("span", { class: "swatch", "aria-hidden": "true", dataset: { color: String(i) } }), sr.name)),
  );
  legend.querySelectorAll(".swatch").forEach((el, i) => { el.style.background = PALETTE[i % PALETTE.length]; });
  return h("figure", { class: "chart-figure" }, title && h("figcaption", {}, title), svg, lines.length > 1 ? legend : null);
}

/** A histogram from {edges, counts} (len(edges) == len(counts) + 1), or null. */
export function histogram({ edges, counts }, { title } = {}) {
  if (!Array.isArray(edges) || !Array.isArray(counts) || !counts.length || edges.length !== counts.length + 1) {
    return null;
  }
  const x = linearScale([edges[0], edges[edges.length - 1]], [M.left, W - M.right]);
  const y = linearScale([0, Math.max(...counts)], [H - M.bottom, M.top]);
  const bars = counts.map((c, i) => {
    const x0 = x(edges[i]);
    const width = Math.max(0.5, x(edges[i + 1]) - x0 - 1);
    return s("rect", { x: x0.toFixed(1), y: y(c).toFixed(1), width: width.toFixed(1),
      height: (y(0) - y(c)).toFixed(1), class: "bar" },
      s("title", {}, `${compact(edges[i])} – ${compact(edges[i + 1])}: ${c}`));
  });
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title ? `Histogram of ${title}` : "Histogram" },
    axes(x, y, x.ticks(), y.ticks().filter(Number.isInteger), { yTitle: "count" }),
    bars,
  );
  return h("figure", { class: "chart-figure" }, title && h("figcaption", {}, title), svg);
}
