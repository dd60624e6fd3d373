// A risk tree's result: every node's LEC (choose which to draw; hidden ones are counted),
// AAL, quantiles, TVaR and return periods in tables, and the tree as an expandable outline.

import { fill, h } from "../dom.js";
import { integer, number } from "../format.js";
import { chartCard, pct, short } from "../charts/core.js";
import { lecSvg } from "../charts/lec.js";
import { riskMatrixSvg } from "../charts/matrix.js";
import { downloadBar, warningBanner } from "./result-common.js";
import { appetitePanel, controlsPanel, driversPanel, groupedWarnings, nodeColor } from "./risk-extras.js";

const DEFAULT_DRAWN = 6;
const RETURN_PERIODS = [10, 50, 100, 200, 1000];

function money(x) {
  return x === null || x === undefined ? "—" : number(Math.round(x));
}

function moneyCell(x) {
  return h("td", { class: "num", dataset: Number.isFinite(x) ? { value: String(x) } : {} }, money(x));
}

function figuresTable(result) {
  const order = result.order || Object.keys(result.nodes);
  const qKeys = [...new Set(order.flatMap((n) => Object.keys(result.nodes[n].quantiles || {})))];
  const tKeys = [...new Set(order.flatMap((n) => Object.keys(result.nodes[n].tvar || {})))];
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Node figures" },
    h("table", { class: "stat-table", id: "node-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Node"), h("th", { class: "num" }, "AAL"), h("th", { class: "num" }, "Std dev"),
        h("th", { class: "num" }, "P(no loss)"), qKeys.map((q) => h("th", { class: "num" }, q.toUpperCase())),
        tKeys.map((t) => h("th", { class: "num" }, `TVaR ${t}%`)), h("th", { class: "num" }, "Max"))),
      h("tbody", {}, order.map((name) => {
        const n = result.nodes[name];
        const label = h("th", { scope: "row", class: n.kind === "portfolio" ? "portfolio" : "leaf" }, name);
        label.style.paddingLeft = `${0.4 + n.depth * 1.1}rem`;
        return h("tr", { dataset: { node: name, kind: n.kind } }, label,
          moneyCell(n.aal), moneyCell(n.std),
          h("td", { class: "num" }, pct(n.p_no_loss)),
          qKeys.map((q) => moneyCell(n.quantiles?.[q])),
          tKeys.map((t) => moneyCell(n.tvar?.[t])),
          moneyCell(n.max));
      }))));
}

function returnPeriodTable(result) {
  const order = result.order || Object.keys(result.nodes);
  const lossAt = (n, years) => n.return_periods?.find((rp) => rp.period === years)?.loss;
  return h("div", { class: "table-scroll" },
    h("table", { class: "stat-table", id: "return-periods" },
      h("thead", {}, h("tr", {}, h("th", {}, "Node"), RETURN_PERIODS.map((y) => h("th", { class: "num" }, `1 in ${y}`)))),
      h("tbody", {}, order.map((name) => {
        const n = result.nodes[name];
        const label = h("th", { scope: "row" }, name);
        label.style.paddingLeft = `${0.4 + n.depth * 1.1}rem`;
        return h("tr", { dataset: { node: name } }, label, RETURN_PERIODS.map((y) => h("td", { class: "num" }, money(lossAt(n, y)))));
      }))));
}

function outline(result) {
  const order = result.order || Object.keys(result.nodes);
  const kids = new Map(order.map((n) => [n, []]));
  for (const n of order) {
    const parent = result.nodes[n].parent;
    if (parent && kids.has(parent)) kids.get(parent).push(n);
  }
  const item = (name) => {
    const n = result.nodes[name];
    const facts = h("span", { class: "figure" }, ` AAL ${short(n.aal)} · P99 ${short(n.quantiles?.p99)}`);
    if (n.kind !== "portfolio") return h("li", { class: "leaf", dataset: { node: name } }, h("span", {}, name), facts);
    return h("li", { dataset: { node: name } }, h("details", { open: n.depth < 1 },
      h("summary", {}, name, facts), h("ul", {}, kids.get(name).map(item))));
  };
  const root = order.find((n) => !result.nodes[n].parent);
  return h("div", { class: "tree-outline", id: "tree-outline" }, h("ul", {}, root ? item(root) : null));
}

/** The result section for a complete risk-tree job. */
export function renderRiskResult(body, { jobId }) {
  const result = body.result;
  const order = result.order || Object.keys(result.nodes);
  // Portfolios take the palette first, so the top of the tree is told apart at a glance.
  const byKind = [...order.filter((n) => result.nodes[n].kind === "portfolio"), ...order.filter((n) => result.nodes[n].kind !== "portfolio")];
  const colorOf = new Map(byKind.map((n, i) => [n, nodeColor(i)]));
  // First drawn: the nodes the run chose for its chart (output.chart_nodes), else the top levels.
  const chosen = (result.chart?.layer?.[0]?.data?.values || []).map((row) => row.node);
  const initial = new Set(chosen.length ? order.filter((n) => chosen.includes(n))
    : order.filter((n) => result.nodes[n].depth <= 1).slice(0, DEFAULT_DRAWN));
  const drawn = new Set(initial);
  const count = h("p", { class: "muted small", id: "lec-count", "aria-live": "polite" });
  const picks = h("div", { class: "node-picks", id: "lec-nodes" });
  const card = chartCard({ title: `Loss exceedance — ${result.root}`, name: `${result.root}-lec`, id: "lec-card",
    note: `${integer(result.trials)} trials; dots mark each node's P90 and P99.` });

  function draw() {
    const curves = order.filter((n) => drawn.has(n)).map((n) => {
      const nd = result.nodes[n];
      return { name: n, color: colorOf.get(n), loss: nd.lec?.loss || [], exceedance: nd.lec?.exceedance || [],
        marks: [["P90", 0.1], ["P99", 0.01]].map(([label, p]) => ({ label, p, loss: nd.quantiles?.[label.toLowerCase()] })) };
    });
    const inherent = result.nodes[result.root]?.inherent;
    if (inherent && drawn.has(result.root)) {
      curves.push({ name: `${result.root} (inherent)`, color: colorOf.get(result.root), dash: "2 3",
        loss: inherent.lec.loss, exceedance: inherent.lec.exceedance, marks: [] });
    }
    if (result.tolerance) {
      const pts = result.tolerance.points;
      curves.push({ name: "Risk tolerance", color: "#111827", dash: "7 4", loss: pts.map((p) => p.loss),
        exceedance: pts.map((p) => p.probability), marks: [] });
    }
    card.setSvg(lecSvg(curves, { title: `Loss exceedance curves of ${result.root}` }));
    const hidden = order.length - drawn.size;
    count.textContent = hidden ? `Showing ${drawn.size} of ${order.length} nodes; ${hidden} hidden. Tick nodes to draw them.`
      : `Showing all ${order.length} nodes.`;
  }
  const boxes = order.map((n) => {
    const box = h("input", { type: "checkbox", checked: drawn.has(n), value: n, onChange: (e) => {
      if (e.target.checked) drawn.add(n); else drawn.delete(n);
      draw();
    } });
    const dot = h("span", { class: "swatch-dot" });
    dot.style.background = colorOf.get(n);
    return h("label", { dataset: { node: n } }, box, dot, n);
  });
  fill(picks, boxes);
  const setAll = (names) => {
    drawn.clear();
    for (const n of names) drawn.add(n);
    for (const label of boxes) label.querySelector("input").checked = drawn.has(label.dataset.node);
    draw();
  };
  const controls = h("div", { class: "chart-controls" },
    h("button", { type: "button", class: "mini", id: "lec-all", onClick: () => setAll(order) }, "All nodes"),
    h("button", { type: "button", class: "mini", id: "lec-top", onClick: () => setAll(initial) }, "Top levels"),
    h("button", { type: "button", class: "mini", id: "lec-none", onClick: () => setAll([]) }, "None"));
  draw();
  const leaves = order.filter((n) => result.nodes[n].kind === "leaf").map((n) => {
    const nd = result.nodes[n];
    const likelihood = 1 - nd.p_no_loss;
    return { name: n, likelihood, impact: likelihood > 0 ? nd.aal / likelihood : 0, aal: nd.aal, color: colorOf.get(n) };
  });
  const matrix = chartCard({ title: "Likelihood × impact of the leaves", name: `${result.root}-matrix`, id: "matrix-card",
    note: "Each leaf's chance of a loss in a year against its mean loss when one happens; the largest AALs are named." });
  matrix.setSvg(riskMatrixSvg(leaves));
  const warnings = groupedWarnings(result.warnings || []);
  return h("div", { class: "dashboard", id: "risk-dashboard" },
    warnings.length ? warningBanner(warnings, { id: "job-warnings" }) : null,
    h("div", { class: "run-strip" },
      [["Root", result.root], ["Trials", integer(result.trials)], ["Seed", String(result.seed)], ["Nodes", integer(order.length)],
        ["AAL (root)", short(result.nodes[result.root]?.aal, 4)], ["P99 (root)", short(result.nodes[result.root]?.quantiles?.p99, 4)]]
        .map(([k, v]) => h("div", { class: "run-fact" }, h("span", { class: "muted small" }, k), h("b", {}, v)))),
    downloadBar(body, jobId),
    h("div", { class: "dash-grid" },
      h("div", { class: "panel-stack" }, card.el),
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Nodes to draw")),
        controls, count, picks)),
    h("div", { class: "dash-grid even" }, appetitePanel(result), matrix.el),
    driversPanel(result),
    controlsPanel(result),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Figures by node")), figuresTable(result)),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Return periods (loss exceeded once in N years)")), returnPeriodTable(result)),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Tree")), outline(result)));
}
