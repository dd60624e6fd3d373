// Distribution charts of one output: histogram and cumulative curve (ECDF), both with
// mean/percentile markers and a shaded band between two delimiters.

import { s } from "../dom.js";
import { CHAR_PX, axes, chartWidth, extent, linear, padded, pct, plotBox, short, svgRoot } from "./core.js";

const W = 640;
const H = 340;
const M = { top: 34, right: 20, bottom: 46, left: 56 };

/** Interpolated P(X ≤ x) from histogram counts (uniform within each bin). */
export function cdfFromHistogram({ edges, counts }, x) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return 0;
  if (x <= edges[0]) return 0;
  if (x >= edges[edges.length - 1]) return 1;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (x >= edges[i + 1]) {
      below += counts[i];
      continue;
    }
    const width = edges[i + 1] - edges[i];
    below += width > 0 ? (counts[i] * (x - edges[i])) / width : 0;
    break;
  }
  return below / total;
}

/** The value at cumulative probability p (0..1) from an ECDF [{x, p}] (linear between points). */
export function quantileFromEcdf(ecdf, p) {
  if (!ecdf?.length) return null;
  if (p <= ecdf[0].p) return ecdf[0].x;
  for (let i = 1; i < ecdf.length; i++) {
    if (p <= ecdf[i].p) {
      const a = ecdf[i - 1];
      const b = ecdf[i];
      return b.p === a.p ? b.x : a.x + ((p - a.p) / (b.p - a.p)) * (b.x - a.x);
    }
  }
  return ecdf[ecdf.length - 1].x;
}

/** Marker labels above the plot, lifted to a second row where they would collide. */
function markerLayer(box, x, markers) {
  const placed = [];
  return s("g", { class: "markers" }, markers.filter((m) => Number.isFinite(m.x)).map((m) => {
    const px = x(m.x);
    const half = (m.label.length * CHAR_PX) / 2 + 4;
    let row = 0;
    while (placed.some((p) => p.row === row && Math.abs(p.px - px) < p.half + half)) row++;
    placed.push({ px, half, row });
    const y = box.top - 6 - row * 13;
    // Two rows fit above the plot; a third marker in the same spot keeps only its tooltip.
    return s("g", { class: `marker marker-${m.kind}`, dataset: { marker: m.key, value: String(m.x) } },
      s("line", { x1: px, x2: px, y1: box.top, y2: box.bottom, class: "marker-line" }),
      row < 2 ? s("text", { x: px, y, "text-anchor": "middle", class: "marker-label" }, m.label) : null,
      s("title", {}, `${m.title}: ${short(m.x, 6)}`));
  }));
}

function bandLayer(box, x, band) {
  if (!band) return null;
  const [a, b] = band.map((v) => Math.min(Math.max(x(v), box.left), box.right));
  return s("g", { class: "band" },
    s("rect", { x: Math.min(a, b), y: box.top, width: Math.abs(b - a), height: box.bottom - box.top, class: "band-fill" }),
    s("line", { x1: a, x2: a, y1: box.top, y2: box.bottom, class: "band-edge" }),
    s("line", { x1: b, x2: b, y1: box.top, y2: box.bottom, class: "band-edge" }));
}

/**
 * Histogram of {edges, counts} as relative frequency, with `markers` [{key, x, label,
 * title, kind}] and an optional `band` [lo, hi] shaded. Returns an <svg> or null.
 */
export function histogramSvg(hist, { title, markers = [], band = null, xTitle = "value", width = chartWidth(W), height = H } = {}) {
  const { edges, counts } = hist || {};
  if (!Array.isArray(edges) || !Array.isArray(counts) || !counts.length || edges.length !== counts.length + 1) return null;
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const box = plotBox(width, height, M);
  const x = linear(padded([edges[0], edges[edges.length - 1]]), [box.left, box.right]);
  const top = Math.max(...counts) / total;
  const y = linear([0, top * 1.05 || 1], [box.bottom, box.top]);
  const inBand = (lo, hi) => band && lo >= Math.min(...band) && hi <= Math.max(...band);
  const bars = counts.map((c, i) => {
    const x0 = x(edges[i]);
    const w = Math.max(0.6, x(edges[i + 1]) - x0 - (counts.length > 80 ? 0 : 1));
    const f = c / total;
    return s("rect", { x: x0.toFixed(2), y: y(f).toFixed(2), width: w.toFixed(2), height: (y(0) - y(f)).toFixed(2),
      class: inBand(edges[i], edges[i + 1]) ? "bar in-band" : "bar", dataset: { count: String(c) } },
    s("title", {}, `${short(edges[i], 4)} – ${short(edges[i + 1], 4)}: ${c.toLocaleString("en-US")} trials (${pct(f)})`));
  });
  return svgRoot(width, height, title ? `Histogram of ${title}` : "Histogram", "histogram",
    axes(box, x, y, { xTitle, yTitle: "share of trials", yFormat: (v) => `${+(v * 100).toPrecision(3)}%` }),
    bandLayer(box, x, band),
    s("g", { class: "bars" }, bars),
    markerLayer(box, x, markers));
}

/** The cumulative curve from an ECDF [{x, p}], with the same markers and band. */
export function cdfSvg(ecdf, { title, markers = [], band = null, xTitle = "value", series = null, width = chartWidth(W), height = H } = {}) {
  const lines = series || [{ name: title || "cumulative", points: ecdf }];
  const usable = lines.filter((l) => Array.isArray(l.points) && l.points.length >= 2);
  if (!usable.length) return null;
  const box = plotBox(width, height, M);
  const x = linear(padded(extent(usable.flatMap((l) => l.points.map((p) => p.x)))), [box.left, box.right]);
  const y = linear([0, 1], [box.bottom, box.top]);
  return svgRoot(width, height, title ? `Cumulative distribution of ${title}` : "Cumulative distribution", "cdf",
    axes(box, x, y, { xTitle, yTitle: "P(X ≤ x)", yFormat: (v) => `${Math.round(v * 100)}%`, yTicks: [0, 0.25, 0.5, 0.75, 1] }),
    bandLayer(box, x, band),
    usable.map((l, i) => s("path", {
      class: "series", dataset: { series: l.name, points: String(l.points.length) },
      stroke: l.color || "#2563eb", "stroke-dasharray": i && !l.color ? "5 3" : null,
      d: l.points.map((p, j) => `${j ? "L" : "M"}${x(p.x).toFixed(2)},${y(p.p).toFixed(2)}`).join(""),
    }, s("title", {}, l.name))),
    markerLayer(box, x, markers));
}

/** Overlaid histograms (as outlines) of several runs: [{name, color, hist}]. */
export function overlaySvg(runs, { title, xTitle = "value", width = chartWidth(W), height = H } = {}) {
  const usable = runs.filter((r) => r.hist?.counts?.length);
  if (!usable.length) return null;
  const box = plotBox(width, height, M);
  const x = linear(padded(extent(usable.flatMap((r) => [r.hist.edges[0], r.hist.edges[r.hist.edges.length - 1]]))), [box.left, box.right]);
  // Densities, so runs with different bin widths and trial counts compare.
  const dens = usable.map((r) => {
    const total = r.hist.counts.reduce((a, b) => a + b, 0) || 1;
    return r.hist.counts.map((c, i) => c / total / ((r.hist.edges[i + 1] - r.hist.edges[i]) || 1));
  });
  const top = Math.max(...dens.flat());
  const y = linear([0, top * 1.05 || 1], [box.bottom, box.top]);
  return svgRoot(width, height, title ? `Histograms of ${title}` : "Histograms", "overlay",
    axes(box, x, y, { xTitle, yTitle: "density", yFormat: () => "" }),
    usable.map((r, k) => {
      const e = r.hist.edges;
      let d = `M${x(e[0]).toFixed(2)},${y(0).toFixed(2)}`;
      dens[k].forEach((v, i) => { d += `L${x(e[i]).toFixed(2)},${y(v).toFixed(2)}L${x(e[i + 1]).toFixed(2)},${y(v).toFixed(2)}`; });
      d += `L${x(e[e.length - 1]).toFixed(2)},${y(0).toFixed(2)}`;
      return s("path", { d, class: "overlay-series", stroke: r.color, fill: r.color, dataset: { series: r.name } }, s("title", {}, r.name));
    }));
}
