// Shared pieces of the dashboard charts: scales, tick labels that never overlap,
// axes, a figure frame with SVG/PNG downloads. Charts are plain SVG from API data.

import { fill, h, s } from "../dom.js";

export const COLORS = ["#2563eb", "#dc2626", "#059669", "#7c3aed", "#d97706", "#0891b2", "#be185d", "#4b5563",
  "#65a30d", "#9333ea", "#0f766e", "#b45309"];
export const CHAR_PX = 6.6; // average width of an 11px tick label character
const TICK_GAP = 10;

/**
 * The drawing width of a chart: its design width on wide screens, about the screen's width
 * on phones, so that 11px labels stay readable instead of being scaled down.
 */
export function chartWidth(design) {
  const screen = typeof window === "undefined" ? design : window.innerWidth - 40;
  return Math.round(Math.max(320, Math.min(design, screen)));
}

/** A short number for axes and badges: 950, 1.2k, 3.4M, 0.05, -2B. */
export function short(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const abs = Math.abs(x);
  if (abs === 0) return "0";
  if (abs < 1e-3) return x.toExponential(1);
  if (abs < 1000) return String(+x.toPrecision(digits));
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumSignificantDigits: digits }).format(x);
}

export function pct(p, digits = 1) {
  return `${(p * 100).toFixed(digits)}%`;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw * 0.999);
}

/** Evenly spaced round ticks between lo and hi, at most `count` of them. */
export function ticks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/**
 * Ticks whose labels fit side by side in `pixels`: the most ticks (up to 8) for which every
 * label, at its own width plus a gap, fits in the space between neighbouring ticks.
 */
export function fittedTicks(lo, hi, pixels, format = short) {
  const fits = (t) => (pixels / (hi - lo)) * (t[1] - t[0]) >= Math.max(...t.map((v) => format(v).length)) * CHAR_PX + TICK_GAP;
  let single = null;
  for (let count = 8; count >= 2; count--) {
    const t = ticks(lo, hi, count);
    if (t.length >= 2 && fits(t)) return t;
    if (t.length === 1) single = single || t;
  }
  // No round grid has two labels that fit: the two ends if they do, else one round value.
  if (hi > lo && fits([lo, hi])) return [lo, hi];
  return single || [lo];
}

export function linear([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.domain = [d0, d1];
  f.range = [r0, r1];
  f.invert = (px) => d0 + ((px - r0) / (r1 - r0)) * span;
  return f;
}

export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** Pad a degenerate or tight domain so a constant still draws. */
export function padded([lo, hi], frac = 0) {
  if (hi === lo) return lo === 0 ? [-1, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  const pad = (hi - lo) * frac;
  return [lo - pad, hi + pad];
}

/** Axes and grid for a plot area: x ticks below, y ticks left, titles. */
export function axes(box, x, y, { xTitle, yTitle, xFormat = short, yFormat = short, yTicks, xTicks } = {}) {
  const { left, right, top, bottom, height } = box;
  const xt = xTicks || fittedTicks(x.domain[0], x.domain[1], right - left, xFormat);
  const yt = yTicks || ticks(y.domain[0], y.domain[1], Math.max(2, Math.floor((bottom - top) / 40)));
  return s(
    "g",
    { class: "axes" },
    yt.map((t) => s("g", {},
      s("line", { x1: left, x2: right, y1: y(t), y2: y(t), class: "grid" }),
      s("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, yFormat(t)))),
    s("line", { x1: left, x2: right, y1: bottom, y2: bottom, class: "axis" }),
    xt.map((t) => s("g", {},
      s("line", { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4, class: "axis" }),
      s("text", { x: x(t), y: bottom + 17, "text-anchor": "middle", class: "tick" }, xFormat(t)))),
    xTitle && s("text", { x: (left + right) / 2, y: height - 6, "text-anchor": "middle", class: "axis-title" }, xTitle),
    yTitle && s("text", { x: 12, y: (top + bottom) / 2, "text-anchor": "middle", class: "axis-title",
      transform: `rotate(-90 12 ${(top + bottom) / 2})` }, yTitle),
  );
}

/** The plot box of a width × height chart with margins {top, right, bottom, left}. */
export function plotBox(width, height, m) {
  return { width, height, left: m.left, right: width - m.right, top: m.top, bottom: height - m.bottom };
}

export function svgRoot(width, height, label, kind, ...children) {
  return s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": label,
    dataset: { chart: kind }, xmlns: "http://www.w3.org/2000/svg" }, ...children);
}

const STYLE_PROPS = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity",
  "opacity", "font-size", "font-family", "font-weight"];

/** A standalone copy of a drawn chart: the page's CSS written onto each element. */
export function standalone(svg) {
  const copy = svg.cloneNode(true);
  const from = [svg, ...svg.querySelectorAll("*")];
  const to = [copy, ...copy.querySelectorAll("*")];
  from.forEach((el, i) => {
    const cs = getComputedStyle(el);
    for (const prop of STYLE_PROPS) {
      const value = cs.getPropertyValue(prop);
      if (value) to[i].setAttribute(prop, value);
    }
  });
  const { width, height } = svg.viewBox.baseVal;
  copy.setAttribute("width", String(width));
  copy.setAttribute("height", String(height));
  const bg = s("rect", { x: 0, y: 0, width, height, fill: getComputedStyle(document.body).backgroundColor || "#fff" });
  copy.insertBefore(bg, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

function save(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}

export function downloadSvg(svg, name) {
  save(new Blob([standalone(svg)], { type: "image/svg+xml" }), `${name}.svg`);
}

export function downloadPng(svg, name, scale = 2) {
  const text = standalone(svg);
  const { width, height } = svg.viewBox.baseVal;
  const img = new Image();
  img.onload = () => {
    const canvas = h("canvas", { width: width * scale, height: height * scale });
    const g = canvas.getContext("2d");
    g.scale(scale, scale);
    g.drawImage(img, 0, 0, width, height);
    canvas.toBlob((blob) => blob && save(blob, `${name}.png`), "image/png");
  };
  img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(text)))}`;
}

export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "chart";
}

/**
 * A chart card: title, optional note and controls, the SVG, and SVG/PNG download buttons.
 * `svg` may be replaced later through the returned `setSvg`.
 */
export function chartCard({ title, name, note, controls, svg, footer, wide = false, id }) {
  const slot = h("div", { class: "chart-slot" });
  let current = null;
  const file = slug(name || title);
  const buttons = h("div", { class: "chart-tools" },
    h("button", { type: "button", class: "mini", title: `Download ${title} as SVG`,
      dataset: { download: "svg" }, onClick: () => current && downloadSvg(current, file) }, "SVG"),
    h("button", { type: "button", class: "mini", title: `Download ${title} as PNG`,
      dataset: { download: "png" }, onClick: () => current && downloadPng(current, file) }, "PNG"));
  const noteEl = h("p", { class: "chart-note" });
  const card = h("figure", { class: `panel chart-card${wide ? " wide" : ""}`, id },
    h("div", { class: "panel-head" }, h("figcaption", { class: "panel-title" }, title), buttons),
    controls || null, slot, noteEl, footer || null);
  function setSvg(el) {
    current = el;
    fill(slot, el || h("p", { class: "muted small" }, "Nothing to draw."));
  }
  function setNote(text) {
    noteEl.textContent = text || "";
    noteEl.hidden = !text;
  }
  setSvg(svg);
  setNote(note);
  return { el: card, setSvg, setNote };
}
