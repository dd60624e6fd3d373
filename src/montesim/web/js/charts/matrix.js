// A likelihood × impact matrix of a tree's leaves: chance of a loss in a period against
// the mean loss when one happens, both on log axes, over a green-to-red 5 × 5 grid.

import { s } from "../dom.js";
import { chartWidth, pct, plotBox, short, svgRoot } from "./core.js";

const HEAT = ["#dcfce7", "#ecfccb", "#fef9c3", "#ffedd5", "#fee2e2"];

function decadeSpan(values) {
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  return [lo, hi > lo ? hi : lo * 10];
}

function log(d0, d1, r0, r1) {
  const a = Math.log10(d0);
  const span = Math.log10(d1) - a || 1;
  return (v) => r0 + ((Math.log10(v) - a) / span) * (r1 - r0);
}

/** Leaves [{name, likelihood, impact, aal, color}]; the largest AALs are labelled. */
export function riskMatrixSvg(leaves, { width = chartWidth(560), height = 420, labelled = 6 } = {}) {
  const pts = leaves.filter((l) => l.likelihood > 0 && l.impact > 0);
  if (!pts.length) return null;
  const box = plotBox(width, height, { top: 14, right: 16, bottom: 44, left: 62 });
  const [x0, x1] = decadeSpan(pts.map((p) => p.likelihood));
  const [y0, y1] = decadeSpan(pts.map((p) => p.impact));
  const x = log(x0, Math.min(1, x1) > x0 ? Math.min(1, x1) : x1, box.left, box.right);
  const y = log(y0, y1, box.bottom, box.top);
  const cw = (box.right - box.left) / 5;
  const ch = (box.bottom - box.top) / 5;
  const decades = (a, b) => { const out = []; for (let v = a; v <= b * 1.0001; v *= 10) out.push(v); return out; };
  // Label the largest AALs, skipping any label that would run into one already placed.
  const placed = [];
  const top = new Set();
  for (const p of [...pts].sort((a, b) => b.aal - a.aal)) {
    if (top.size >= labelled) break;
    const lx = x(p.likelihood);
    const ly = y(p.impact);
    const w = Math.min(22, p.name.length) * 6.2;
    if (placed.some(([a, b, c]) => Math.abs(ly - b) < 14 && lx < a + c && a < lx + w)) continue;
    placed.push([lx, ly, w]);
    top.add(p.name);
  }
  return svgRoot(width, height, "Likelihood and impact of each leaf", "matrix",
    s("g", { class: "heat" }, [0, 1, 2, 3, 4].flatMap((i) => [0, 1, 2, 3, 4].map((j) =>
      s("rect", { x: box.left + i * cw, y: box.bottom - (j + 1) * ch, width: cw, height: ch,
        fill: HEAT[Math.min(4, Math.floor((i + j) / 2))] })))),
    s("g", { class: "axes" },
      decades(x0, Math.min(1, x1)).map((t) => s("text", { x: x(t), y: box.bottom + 16, "text-anchor": "middle", class: "tick" }, pct(t, t < 0.01 ? 2 : 0))),
      decades(y0, y1).map((t) => s("text", { x: box.left - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, short(t))),
      s("line", { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: "axis" }),
      s("line", { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: "axis" }),
      s("text", { x: (box.left + box.right) / 2, y: height - 6, "text-anchor": "middle", class: "axis-title" }, "Likelihood: P(a loss in a year)"),
      s("text", { x: 12, y: (box.top + box.bottom) / 2, "text-anchor": "middle", class: "axis-title",
        transform: `rotate(-90 12 ${(box.top + box.bottom) / 2})` }, "Impact: mean loss when it happens")),
    s("g", { class: "points" }, pts.map((p) => s("g", { dataset: { node: p.name } },
      s("circle", { cx: x(p.likelihood), cy: y(p.impact), r: 5, fill: p.color, stroke: "#fff", "stroke-width": 1 },
        s("title", {}, `${p.name}: ${pct(p.likelihood, 2)} a year, ${short(p.impact, 3)} when it happens`)),
      top.has(p.name) ? s("text", { x: x(p.likelihood) + 7, y: y(p.impact) - 6, class: "point-label" },
        p.name.length > 22 ? `${p.name.slice(0, 21)}…` : p.name) : null))));
}
