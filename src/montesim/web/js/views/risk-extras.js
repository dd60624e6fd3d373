// What a risk committee asks of a risk-tree result: tail drivers, appetite, P(loss ≥ x),
// controls. Each function returns a panel, or null when the result has nothing for it.

import { h, fill } from "../dom.js";
import { number } from "../format.js";
import { COLORS, pct } from "../charts/core.js";

const money = (x) => (x === null || x === undefined ? "—" : number(Math.round(x)));
const num = (x) => h("td", { class: "num" }, money(x));

/** A distinct colour per node: the palette, then golden-angle hues in two lightnesses. */
export function nodeColor(i) {
  if (i < COLORS.length) return COLORS[i];
  const k = i - COLORS.length;
  return `hsl(${Math.round((k * 137.508 + 20) % 360)}, 70%, ${k % 2 ? 32 : 46}%)`;
}

function panel(title, id, ...body) {
  return h("section", { class: "panel", id },
    h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, title)), ...body);
}

/** Leaves ranked by their share of a node's TVaR (co-TVaR), for a node and level chosen. */
export function driversPanel(result) {
  const order = result.order || Object.keys(result.nodes);
  const portfolios = order.filter((n) => result.nodes[n].contributions && result.nodes[n].kind === "portfolio");
  if (!portfolios.length) return null;
  const nodeSel = h("select", { id: "drivers-node", "aria-label": "Node" },
    portfolios.map((n) => h("option", { value: n }, n)));
  const levelSel = h("select", { id: "drivers-level", "aria-label": "TVaR level" },
    h("option", { value: "tvar99" }, "TVaR 99%"), h("option", { value: "tvar95" }, "TVaR 95%"));
  const byChild = h("input", { type: "checkbox", id: "drivers-by-child" });
  const body = h("div", { class: "table-scroll" });
  function render() {
    const node = result.nodes[nodeSel.value];
    const level = levelSel.value;
    const shares = (byChild.checked ? node.child_contributions : node.contributions)?.[level] || {};
    const total = node.tvar?.[level.slice(-2)] || 0;
    const rows = Object.entries(shares).sort((a, b) => b[1] - a[1]);
    const top = Math.max(...rows.map(([, v]) => v), 0);
    fill(body, h("table", { class: "stat-table", id: "drivers-table" },
      h("caption", { class: "muted small" }, `${nodeSel.value}: ${levelSel.selectedOptions[0].text} ${money(total)}, shared by Euler allocation`),
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, byChild.checked ? "Child" : "Leaf"),
        h("th", { class: "num" }, "Contribution"), h("th", { class: "num" }, "Share"), h("th", { class: "bar-col" }, ""))),
      h("tbody", {}, rows.map(([name, value], i) => {
        const share = total > 0 ? value / total : 0;
        const bar = h("span", { class: "share-bar" });
        bar.style.width = `${top > 0 ? Math.max(0, (100 * value) / top).toFixed(1) : 0}%`;
        return h("tr", { dataset: { node: name } }, h("td", { class: "num" }, String(i + 1)), h("th", { scope: "row" }, name),
          num(value), h("td", { class: "num" }, pct(share)), h("td", { class: "bar-col" }, bar));
      }))));
  }
  for (const el of [nodeSel, levelSel, byChild]) el.addEventListener("change", render);
  render();
  return panel("Tail drivers (what makes up the TVaR)", "drivers-panel",
    h("div", { class: "chart-controls" }, nodeSel, levelSel, h("label", {}, byChild, " by child")), body);
}

/** P(loss ≥ x) of the root, read from its full loss histogram (the sketch), as the engine reads it. */
export function exceedanceFromSketch(sketch, x) {
  if (!sketch || !sketch.n) return 0;
  if (x <= 0) return 1;
  const shift = BigInt(52 - sketch.mantissa_bits);
  const view = new DataView(new ArrayBuffer(8));
  const edge = (key) => { view.setBigInt64(0, BigInt(key) << shift); return view.getFloat64(0); };
  const keys = sketch.keys;
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    let lo = edge(keys[i]);
    let hi = edge(keys[i] + 1);
    let c = sketch.counts[i];
    const top = i === keys.length - 1;
    if (top) {
      hi = sketch.max;
      lo = Math.min(lo, sketch.max);
      c -= sketch.at_max;
      if (sketch.max >= x) count += sketch.at_max;
    }
    if (c <= 0) continue;
    const width = hi - lo;
    count += width > 0 ? c * Math.min(1, Math.max(0, (hi - x) / width)) : (lo >= x ? c : 0);
  }
  return count / sketch.n;
}

/** The tolerance verdict and a box that reads P(loss ≥ x) for any x. */
export function appetitePanel(result) {
  const tol = result.tolerance;
  const input = h("input", { type: "number", min: "0", step: "any", id: "exceed-x", class: "num-in", "aria-label": "Loss x" });
  const out = h("output", { id: "exceed-p", for: "exceed-x", "aria-live": "polite" }, "—");
  const show = () => {
    const x = Number(input.value);
    out.textContent = input.value === "" || !Number.isFinite(x) ? "—"
      : `P(${result.root} loss ≥ ${money(x)}) = ${pct(exceedanceFromSketch(result.sketch, x), 3)}`;
  };
  input.addEventListener("input", show);
  const verdict = tol ? h("p", { id: "tolerance-verdict", class: tol.exceeded ? "bad" : "ok" },
    tol.exceeded ? "✗ Outside the risk tolerance: " : "✓ Within the risk tolerance: ",
    `worst at ${money(tol.worst.loss)}, P(loss ≥ x) ${pct(tol.worst.lec_probability, 3)} against ${pct(tol.worst.probability, 3)} tolerated.`) : null;
  const table = tol ? h("div", { class: "table-scroll" }, h("table", { class: "stat-table", id: "tolerance-table" },
    h("thead", {}, h("tr", {}, h("th", { class: "num" }, "Loss"), h("th", { class: "num" }, "Tolerated P"),
      h("th", { class: "num" }, "P(loss ≥ x)"), h("th", {}, ""))),
    h("tbody", {}, tol.points.map((p) => h("tr", { class: p.exceeded ? "bad" : "" }, num(p.loss),
      h("td", { class: "num" }, pct(p.probability, 3)), h("td", { class: "num" }, pct(p.lec_probability, 3)),
      h("td", { title: p.exceeded ? "exceeded" : "within" }, p.exceeded ? "✗" : "✓")))))) : null;
  return panel("Appetite", "appetite-panel", verdict, table,
    h("label", { class: "exceed-box" }, "P(loss ≥ x) for x = ", input), h("p", {}, out));
}

/** Inherent against residual figures, and what each control buys per unit of cost. */
export function controlsPanel(result) {
  const rows = result.controls;
  if (!rows || !rows.length) return null;
  const root = result.nodes[result.root];
  const side = h("table", { class: "stat-table", id: "inherent-residual" },
    h("thead", {}, h("tr", {}, h("th", {}, result.root), h("th", { class: "num" }, "Inherent"), h("th", { class: "num" }, "Residual"))),
    h("tbody", {}, [["AAL", root.inherent.aal, root.aal], ["TVaR 95%", root.inherent.tvar["95"], root.tvar["95"]],
      ["TVaR 99%", root.inherent.tvar["99"], root.tvar["99"]]].map(([k, a, b]) => h("tr", {}, h("th", { scope: "row" }, k), num(a), num(b)))));
  const per = (x) => (x === null || x === undefined ? "—" : number(x, 3));
  const table = h("table", { class: "stat-table", id: "controls-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Control"), h("th", {}, "Leaf"), h("th", { class: "num" }, "Cost"),
      h("th", { class: "num" }, "AAL saved"), h("th", { class: "num" }, "TVaR 99 saved"),
      h("th", { class: "num" }, "AAL / cost"), h("th", { class: "num" }, "TVaR 99 / cost"))),
    h("tbody", {}, rows.map((r) => h("tr", { dataset: { control: r.name } }, h("th", { scope: "row" }, r.name), h("td", {}, r.leaf),
      num(r.cost), num(r.reduction.aal), num(r.reduction.tvar99),
      h("td", { class: "num" }, per(r.per_cost.aal)), h("td", { class: "num" }, per(r.per_cost.tvar99))))));
  return panel("Controls", "controls-panel", h("div", { class: "table-scroll" }, side), h("div", { class: "table-scroll" }, table));
}

/** Warnings as shown: many heavy-tail warnings become one line naming every leaf. */
export function groupedWarnings(warnings) {
  const tails = warnings.filter((w) => w.code === "unbounded_tail");
  if (tails.length <= 3) return warnings;
  const named = tails.map((w) => `${w.leaf} (${money(w.loss_1_in_10000)})`).join(", ");
  return [...warnings.filter((w) => w.code !== "unbounded_tail"), { code: "unbounded_tail",
    message: `${tails.length} leaves have severities unbounded above whose one-in-10,000 event is over 10× their 95th percentile; give them a cap (or an expert's maxLoss) if losses cannot go that high: ${named}.` }];
}
