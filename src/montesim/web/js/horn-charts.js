// Charts a horn designer reads: responses over a log-frequency axis (ticks at 1-2-5 in
// every decade, gridlines at the decades), an SPL axis ranged to the data, a polar plot
// at a chosen frequency, and the -6 dB beamwidth. Drawn in a small viewBox with large
// type so the labels stay readable on a phone (390 px).

import { h, s } from "./dom.js";
import { PALETTE } from "./charts.js";

const W = 480;
const H = 300;
const M = { top: 12, right: 12, bottom: 44, left: 52 };

export const hz = (f) => (f >= 1000 ? `${+(f / 1000).toPrecision(3)}k` : `${+f.toPrecision(3)}`);

/** Log-axis ticks: 1, 2, 5 times each power of ten within [lo, hi]; decades marked. */
export function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push({ value: v, decade: m === 1 });
    }
  }
  return out;
}

/** A dB axis from the data: whole multiples of `step`, at least `span` dB tall. */
export function dbRange(values, { step = 5, span = 20 } = {}) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, span];
  let lo = Math.floor(Math.min(...finite) / step) * step;
  let hi = Math.ceil(Math.max(...finite) / step) * step;
  if (hi - lo < span) {
    const mid = (lo + hi) / 2;
    lo = Math.floor((mid - span / 2) / step) * step;
    hi = lo + span;
  }
  if (lo < 0 && Math.min(...finite) >= 0) { hi = Math.max(hi - lo, span); lo = 0; } // a DI is not negative
  return [lo, hi];
}

function linearTicks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/**
 * Series [{name, points: [[f, y]]}] over frequency. `db`: the y axis is ranged in whole
 * 5 dB steps, at least `span` dB tall (an SPL curve is not pinned to 0 dB).
 */
export function freqChart(series, { title, yTitle, db = false, span = 30, name } = {}) {
  const lines = series
    .map((sr) => ({ ...sr, points: sr.points.filter(([x, y]) => x > 0 && Number.isFinite(y)) }))
    .filter((sr) => sr.points.length >= 1);
  if (!lines.length) return null;
  const xs = lines.flatMap((sr) => sr.points.map((p) => p[0]));
  const ys = lines.flatMap((sr) => sr.points.map((p) => p[1]));
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x1 / x0 < 2) { x0 /= 1.5; x1 *= 1.5; }
  let [y0, y1] = db ? dbRange(ys, { span }) : [Math.min(0, ...ys), Math.max(...ys)];
  if (!db) { const pad = (y1 - y0) * 0.08 || 1; y1 += pad; if (y0 < 0) y0 -= pad; }
  const L = M.left, R = W - M.right, T = M.top, B = H - M.bottom;
  const x = (v) => L + ((Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (R - L);
  const y = (v) => B - ((v - y0) / (y1 - y0 || 1)) * (B - T);
  const xt = logTicks(x0, x1);
  const yt = db ? linearTicks(y0, y1, Math.min(8, (y1 - y0) / 5)) : linearTicks(y0, y1, 5);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart horn-chart", role: "img", "aria-label": title, dataset: { name: name || "" } },
    s("g", { class: "axes" },
      xt.map((t) => s("g", { class: t.decade ? "x-tick decade" : "x-tick", dataset: { value: String(t.value) } },
        s("line", { x1: x(t.value), x2: x(t.value), y1: T, y2: B, class: t.decade ? "grid decade" : "grid" }),
        s("text", { x: x(t.value), y: B + 17, "text-anchor": "middle", class: "tick" }, hz(t.value)))),
      yt.map((t) => s("g", { class: "y-tick", dataset: { value: String(t) } },
        s("line", { x1: L, x2: R, y1: y(t), y2: y(t), class: "grid" }),
        s("text", { x: L - 5, y: y(t) + 4, "text-anchor": "end", class: "tick" }, String(t)))),
      s("line", { x1: L, x2: R, y1: B, y2: B, class: "axis" }),
      s("line", { x1: L, x2: L, y1: T, y2: B, class: "axis" }),
      s("text", { x: (L + R) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" }, "Frequency (Hz)"),
      yTitle && s("text", { x: 13, y: (T + B) / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 13 ${(T + B) / 2})` }, yTitle)),
    lines.map((sr, i) => [
      s("path", { class: "series", stroke: PALETTE[i % PALETTE.length], dataset: { series: sr.name },
        d: sr.points.map(([px, py], j) => `${j ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join("") },
      s("title", {}, sr.name)),
      sr.points.length === 1 ? s("circle", { cx: x(sr.points[0][0]), cy: y(sr.points[0][1]), r: 3, fill: PALETTE[i % PALETTE.length] }) : null,
    ]));
  return figure(title, svg, lines);
}

function figure(title, svg, lines) {
  const legend = lines.length > 1
    ? h("ul", { class: "legend" }, lines.map((sr, i) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = PALETTE[i % PALETTE.length];
      return h("li", {}, swatch, sr.name);
    }))
    : null;
  return h("figure", { class: "chart-figure horn-figure" }, h("figcaption", {}, title), svg, legend);
}

const FLOOR = -30;

/** Every plane's curve at one frequency on a half-disc: 0° up the axis, 90° to the side,
 * 180° behind; the radius is the level re the norm angle, −30 to 0 dB. */
export function polarPlot(directivity, index, frequency) {
  const planes = Object.entries(directivity || {}).filter(([, rows]) => Array.isArray(rows[index]));
  if (!planes.length) return h("p", { class: "muted polar-empty" }, `No polar data at ${hz(frequency)} Hz (the frequency failed).`);
  const R = 200, cx = 30, cy = R + 24;
  const rad = (db) => ((Math.max(FLOOR, Math.min(0, db)) - FLOOR) / -FLOOR) * R;
  const at = (a, r) => [cx + r * Math.sin((a * Math.PI) / 180), cy - r * Math.cos((a * Math.PI) / 180)];
  const rings = [0, -6, -12, -18, -24].map((db) => {
    const r = rad(db);
    return s("g", { class: "ring" },
      s("path", { d: `M${cx},${cy - r} A${r},${r} 0 0 1 ${cx},${cy + r}`, class: db === -6 ? "grid six" : "grid", fill: "none" }),
      s("text", { x: cx - 4, y: cy - r + 4, "text-anchor": "end", class: "tick" }, `${db}`));
  });
  const spokes = [0, 30, 60, 90, 120, 150, 180].map((a) => {
    const [x2, y2] = at(a, R);
    const [tx, ty] = at(a, R + 14);
    return s("g", {}, s("line", { x1: cx, y1: cy, x2, y2, class: "grid" }),
      s("text", { x: tx, y: ty + 4, "text-anchor": a === 0 || a === 180 ? "middle" : "start", class: "tick" }, `${a}°`));
  });
  const curves = planes.map(([name, rows], i) => {
    const pts = rows[index].filter(([, db]) => db !== null).map(([a, db]) => at(a, rad(db)));
    return s("path", { class: "series", stroke: PALETTE[i % PALETTE.length], dataset: { plane: name },
      d: pts.map(([px, py], j) => `${j ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("") }, s("title", {}, name));
  });
  const svg = s("svg", { viewBox: `0 0 ${cx + R + 44} ${2 * cy}`, class: "chart horn-polar", role: "img",
    "aria-label": `Polar plot at ${hz(frequency)} Hz`, dataset: { frequency: String(frequency) } }, rings, spokes, curves);
  return figure(`Polar at ${hz(frequency)} Hz (dB re norm angle)`, svg, planes.map(([name]) => ({ name })));
}

/** A polar plot with a frequency chooser; redraws in place. */
export function polarChooser(result, freqs) {
  const solved = freqs.map((f, i) => [f, i]).filter(([, i]) =>
    Object.values(result.directivity || {}).some((rows) => Array.isArray(rows[i])));
  if (!solved.length) return null;
  const pick = solved.reduce((best, cur) => (Math.abs(Math.log(cur[0] / 2000)) < Math.abs(Math.log(best[0] / 2000)) ? cur : best));
  const select = h("select", { id: "horn-polar-frequency", "aria-label": "Polar plot frequency" },
    solved.map(([f, i]) => h("option", { value: String(i), selected: i === pick[1] }, `${hz(f)} Hz`)));
  const holder = h("div", { class: "horn-polar-holder" }, polarPlot(result.directivity, pick[1], pick[0]));
  select.addEventListener("change", () => {
    const i = Number(select.value);
    holder.replaceChildren(polarPlot(result.directivity, i, freqs[i]));
  });
  return h("div", { class: "horn-polar-block" }, h("label", { for: "horn-polar-frequency" }, "Frequency "), select, holder);
}
