// Loss exceedance curves on log–log axes, one label per decade in short money.

import { s } from "../dom.js";
import { COLORS, chartWidth, plotBox, short, svgRoot } from "./core.js";

function logScale(d0, d1, r0, r1) {
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0 || 1;
  const f = (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0);
  f.decades = () => {
    const out = [];
    for (let e = Math.ceil(l0 - 1e-9); e <= Math.log10(d1) + 1e-9; e++) out.push(10 ** e);
    return out;
  };
  return f;
}

const pctLabel = (p) => `${+(p * 100).toPrecision(3)}%`;

/** LECs [{name, loss: [], exceedance: [], color}] with optional quantile dots. */
export function lecSvg(curves, { title, width = chartWidth(680), height: plotH = 400 } = {}) {
  const lines = curves.map((c) => ({
    ...c,
    points: c.loss.map((x, i) => [x, c.exceedance[i]]).filter(([x, p]) => x > 0 && p > 0),
  })).filter((c) => c.points.length >= 2);
  if (!lines.length) return null;
  const xs = lines.flatMap((c) => c.points.map((p) => p[0]));
  const ps = lines.flatMap((c) => c.points.map((p) => p[1]));
  // The legend goes under the plot (it travels with SVG/PNG downloads).
  const perRow = width < 500 ? 2 : 3;
  const height = plotH + Math.ceil(lines.length / perRow) * 18 + 6;
  const x0 = 10 ** Math.floor(Math.log10(Math.min(...xs)));
  const x1 = 10 ** Math.ceil(Math.log10(Math.max(...xs)));
  const y0 = 10 ** Math.floor(Math.log10(Math.min(...ps)));
  const box = plotBox(width, plotH, { top: 16, right: 20, bottom: 46, left: 58 });
  const x = logScale(x0, x1, box.left, box.right);
  const y = logScale(y0, 1, box.bottom, box.top);
  // With many decades, label every other one so labels never touch.
  const xt = x.decades();
  const room = (box.right - box.left) / Math.max(1, xt.length - 1);
  const every = room < 44 ? 2 : 1;
  return svgRoot(width, height, title || "Loss exceedance curves", "lec",
    s("g", { class: "axes" },
      y.decades().map((t) => s("g", {},
        s("line", { x1: box.left, x2: box.right, y1: y(t), y2: y(t), class: "grid" }),
        s("text", { x: box.left - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, pctLabel(t)))),
      xt.map((t, i) => s("g", {},
        s("line", { x1: x(t), x2: x(t), y1: box.top, y2: box.bottom, class: "grid" }),
        i % every === 0 ? s("text", { x: x(t), y: box.bottom + 17, "text-anchor": "middle", class: "tick" }, short(t)) : null)),
      s("line", { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: "axis" }),
      s("line", { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: "axis" }),
      s("text", { x: (box.left + box.right) / 2, y: plotH - 6, "text-anchor": "middle", class: "axis-title" }, "Loss"),
      s("text", { x: 12, y: (box.top + box.bottom) / 2, "text-anchor": "middle", class: "axis-title",
        transform: `rotate(-90 12 ${(box.top + box.bottom) / 2})` }, "P(loss ≥ x)")),
    lines.map((c, i) => {
      const color = c.color || COLORS[i % COLORS.length];
      return s("g", { class: "lec", dataset: { node: c.name } },
        s("path", { class: "series", stroke: color, ...(c.dash ? { "stroke-dasharray": c.dash } : {}),
          d: c.points.map(([px, py], j) => `${j ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join("") },
        s("title", {}, c.name)),
        (c.marks || []).filter((m) => m.loss > 0 && m.p >= y0).map((m) => s("circle", { cx: x(m.loss), cy: y(m.p), r: 3.5, fill: color },
          s("title", {}, `${c.name} ${m.label}: ${short(m.loss, 4)}`))));
    }),
    lines.map((c, i) => {
      const lx = box.left + (i % perRow) * ((box.right - box.left) / perRow);
      const ly = plotH + 4 + Math.floor(i / perRow) * 18;
      const room = Math.floor((box.right - box.left) / perRow / 7) - 3;
      return s("g", { class: "legend-item" },
        s("rect", { x: lx, y: ly, width: 14, height: 4, fill: c.color || COLORS[i % COLORS.length] }),
        s("text", { x: lx + 20, y: ly + 6, class: "legend-text" }, c.name.length > room ? `${c.name.slice(0, room - 1)}…` : c.name));
    }));
}
