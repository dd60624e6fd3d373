// Compare runs: pick two or more finished jobs, overlay their distributions for an output
// (or tree node) they share, statistics side by side with the difference of means and its
// 95% confidence interval, and a scenario table of what differs between the runs.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { integer, number, shortId, time } from "../format.js";
import { COLORS, chartCard, short } from "../charts/core.js";
import { cdfSvg, overlaySvg } from "../charts/distribution.js";
import { specSummary } from "./list.js";
import { problemBox } from "./problem.js";

const PICK_LIMIT = 100;
const Z95 = 1.959964;

/** The name people know a job by: its label, else its workbook, else its id. */
export function jobName(job) {
  return job.label || workbookName(job) || `Job ${shortId(job.job_id)}`;
}

export function workbookName(job) {
  return job.file_name || job.spec?.file_name || null;
}

/** Per-output (Excel) or per-node (risk tree) distributions of a result, in one shape. */
export function distributions(body) {
  const r = body.result || {};
  const out = new Map();
  if (r.outputs && typeof r.outputs === "object") {
    for (const [name, o] of Object.entries(r.outputs)) {
      out.set(name, { n: o.n, mean: o.mean, std: o.std, hist: o.histogram, ecdf: o.ecdf,
        pcts: { P5: o.percentiles?.p5, P50: o.percentiles?.p50, P95: o.percentiles?.p95 }, errors: o.error_trials });
    }
  } else if (r.nodes && typeof r.nodes === "object") {
    for (const [name, nd] of Object.entries(r.nodes)) {
      const lec = nd.lec || {};
      const ecdf = (lec.loss || []).map((x, i) => ({ x, p: 1 - lec.exceedance[i] })).sort((a, b) => a.x - b.x);
      out.set(name, { n: nd.trials, mean: nd.aal, std: nd.std, hist: null, ecdf,
        pcts: { P50: nd.quantiles?.p50, P90: nd.quantiles?.p90, P99: nd.quantiles?.p99 }, errors: 0 });
    }
  }
  return out;
}

/** Difference of means b − a with a 95% interval (Welch's standard error, normal quantile). */
export function meanDifference(a, b) {
  if (![a.mean, b.mean, a.std, b.std].every(Number.isFinite) || !(a.n > 1 && b.n > 1)) return null;
  const diff = b.mean - a.mean;
  const se = Math.sqrt((a.std * a.std) / a.n + (b.std * b.std) / b.n);
  return { diff, lo: diff - Z95 * se, hi: diff + Z95 * se };
}

/**
 * What differs between runs: spec fields (seed, iterations, input overrides...) flattened
 * one level, and each Excel input's distribution as the run sampled it.
 */
export function differingFields(specs, results = []) {
  const flat = specs.map((sp, i) => {
    const out = {};
    for (const d of results[i]?.inputs || []) {
      out[d.name] = JSON.stringify(`${d.family}(${(d.params || []).map((p) => (Array.isArray(p) ? `[${p.join(", ")}]` : p)).join(", ")})`);
    }
    for (const [k, v] of Object.entries(sp || {})) {
      if (v && typeof v === "object" && !Array.isArray(v) && ["inputs", "fixed", "correlation"].includes(k)) {
        for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = JSON.stringify(v2);
      } else if (k !== "cells" && k !== "tree") out[k] = JSON.stringify(v);
    }
    return out;
  });
  const keys = [...new Set(flat.flatMap(Object.keys))];
  return keys.filter((k) => new Set(flat.map((f) => f[k] ?? "—")).size > 1).map((k) => ({
    key: k, values: flat.map((f) => (f[k] === undefined ? "—" : f[k].replace(/^"|"$/g, ""))),
  }));
}

function picker(root, chosen, onCompare) {
  const filter = h("input", { type: "search", id: "compare-filter", placeholder: "Filter by label, workbook or engine",
    "aria-label": "Filter jobs" });
  const list = h("div", { class: "pick-list", id: "compare-picks" }, h("p", { class: "muted" }, "Loading finished jobs…"));
  const go = h("button", { type: "button", class: "primary", id: "compare-go", disabled: true }, "Compare");
  const picked = new Set(chosen);
  let jobs = [];
  const update = () => {
    go.disabled = picked.size < 2;
    go.textContent = picked.size < 2 ? "Pick two or more runs" : `Compare ${picked.size} runs`;
  };
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = jobs.filter((j) => !q || [j.label, workbookName(j), j.engine, j.spec_summary].some((t) => t && t.toLowerCase().includes(q)));
    fill(list, shown.length ? shown.map((j) => h("label", { dataset: { jobId: j.job_id } },
      h("input", { type: "checkbox", checked: picked.has(j.job_id), onChange: (e) => {
        if (e.target.checked) picked.add(j.job_id); else picked.delete(j.job_id);
        update();
      } }),
      h("span", {}, h("b", {}, jobName(j)),
        h("span", { class: "muted small" }, ` · ${j.engine} · ${[workbookName(j), specSummary(j)].filter(Boolean).join(" · ")} · ${time(j.completed_at || j.created_at)}`))))
      : h("p", { class: "muted" }, jobs.length ? "No finished job matches." : "No finished jobs yet."));
  };
  filter.addEventListener("input", render);
  go.addEventListener("click", () => onCompare([...picked]));
  api.listJobs({ status: "complete", limit: PICK_LIMIT, offset: 0 })
    .then((page) => { jobs = page.items; render(); })
    .catch((err) => fill(list, problemBox(err, "Could not list jobs")));
  update();
  return h("section", { class: "panel", id: "compare-picker" },
    h("div", { class: "panel-head" }, h("h2", { class: "panel-title" }, "Runs to compare")),
    h("p", { class: "muted small" }, "Finished runs of the same workbook, or any runs with outputs of the same name."),
    h("div", { class: "toolbar" }, filter, go), list);
}

function statsTable(runs, name) {
  const dists = runs.map((r) => r.dists.get(name));
  const base = dists[0];
  const pctKeys = Object.keys(base.pcts);
  const row = (label, cells, key) => h("tr", { dataset: { stat: key } }, h("th", { scope: "row" }, label), cells);
  return h("div", { class: "table-scroll" }, h("table", { class: "stat-table compare-table", id: "compare-stats" },
    h("thead", {}, h("tr", {}, h("th", {}, "Statistic"), runs.map((r) => h("th", { class: "num" },
      h("span", { class: "swatch-dot", dataset: { color: String(r.color) } }), jobName(r.job))))),
    h("tbody", {},
      row("Mean", dists.map((d) => h("td", { class: "num" }, number(d.mean))), "mean"),
      row("Std dev", dists.map((d) => h("td", { class: "num" }, number(d.std))), "std"),
      pctKeys.map((k) => row(k, dists.map((d) => h("td", { class: "num" }, number(d.pcts[k]))), k)),
      row("Trials", dists.map((d) => h("td", { class: "num" }, integer(d.n))), "n"),
      row(`Mean − ${jobName(runs[0].job)} (95% CI)`, dists.map((d, i) => {
        if (i === 0) return h("td", { class: "num muted" }, "baseline");
        const md = meanDifference(base, d);
        if (!md) return h("td", { class: "num" }, "—");
        const sig = md.lo > 0 || md.hi < 0;
        return h("td", { class: `num diff${sig ? " significant" : ""}`, dataset: { diff: String(md.diff), lo: String(md.lo), hi: String(md.hi) } },
          `${md.diff >= 0 ? "+" : ""}${number(md.diff, 4)}`, h("div", { class: "muted small" }, `${short(md.lo, 4)} to ${short(md.hi, 4)}`));
      }), "diff"))));
}

function scenarioTable(runs, name) {
  const diffs = differingFields(runs.map((r) => r.job.spec), runs.map((r) => r.body.result));
  return h("div", { class: "table-scroll" }, h("table", { class: "stat-table", id: "scenario-table" },
    h("thead", {}, h("tr", {}, ["Run", "Label", ...diffs.map((d) => d.key), "Mean", "P5", "P50", "P95"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, runs.map((r, i) => {
      const d = r.dists.get(name);
      const q = (p) => d.pcts[p] ?? (d.ecdf?.length ? d.ecdf[Math.round((Number(p.slice(1)) / 100) * (d.ecdf.length - 1))]?.x : null);
      return h("tr", { dataset: { jobId: r.job.job_id } },
        h("td", {}, h("a", { href: `#/jobs/${r.job.job_id}` }, shortId(r.job.job_id))),
        h("td", {}, r.job.label || workbookName(r.job) || "—"),
        diffs.map((f) => h("td", { class: "mono small" }, f.values[i])),
        ["mean", "P5", "P50", "P95"].map((p) => h("td", { class: "num" }, number(p === "mean" ? d.mean : q(p)))));
    }))));
}

function comparison(runs) {
  const shared = [...runs[0].dists.keys()].filter((n) => runs.every((r) => r.dists.has(n)));
  if (!shared.length) {
    return h("div", { class: "banner banner-warn", id: "compare-nothing" }, "These runs have no output or node of the same name to compare.");
  }
  const select = h("select", { id: "compare-output", "aria-label": "Output to compare" }, shared.map((n) => h("option", { value: n }, n)));
  const body = h("div", { class: "output-panel" });
  const legend = h("ul", { class: "legend", id: "compare-legend" }, runs.map((r) => {
    const dot = h("span", { class: "swatch-dot" });
    dot.style.background = COLORS[r.color % COLORS.length];
    return h("li", {}, dot, jobName(r.job), h("span", { class: "muted small" }, ` seed ${r.job.spec?.seed ?? "—"}`));
  }));
  const draw = () => {
    const name = select.value;
    const series = runs.map((r) => ({ name: jobName(r.job), color: COLORS[r.color % COLORS.length], dist: r.dists.get(name) }));
    const hist = chartCard({ title: `Distributions of ${name}`, name: `compare-${name}-histograms`, id: "compare-hist",
      svg: overlaySvg(series.map((sr) => ({ name: sr.name, color: sr.color, hist: sr.dist.hist })), { title: name, xTitle: name }) });
    const cdf = chartCard({ title: `Cumulative distributions of ${name}`, name: `compare-${name}-cdf`, id: "compare-cdf",
      svg: cdfSvg(null, { title: name, xTitle: name, series: series.map((sr) => ({ name: sr.name, color: sr.color, points: sr.dist.ecdf })) }) });
    const errs = series.filter((sr) => sr.dist.errors);
    fill(body,
      errs.length ? h("div", { class: "banner banner-warn" }, errs.map((sr) => `${sr.name}: ${integer(sr.dist.errors)} error trials left out. `)) : null,
      h("div", { class: "dash-grid even" }, hist.el, cdf.el),
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Side by side")), statsTable(runs, name),
        h("p", { class: "chart-note" }, "The interval is Welch's normal approximation from each run's mean, standard deviation and trial count; it treats trials as independent draws, so it is conservative for Latin hypercube runs.")),
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Scenarios")), scenarioTable(runs, name)));
    // Legend swatches take their colour from the run (CSSOM, allowed by the page's CSP).
    document.querySelectorAll("#compare-stats .swatch-dot").forEach((el) => {
      el.style.background = COLORS[Number(el.dataset.color) % COLORS.length];
    });
  };
  select.addEventListener("change", draw);
  queueMicrotask(draw);
  return h("div", { class: "dashboard", id: "comparison" },
    h("div", { class: "toolbar" }, h("label", { for: "compare-output" }, "Output"), select, legend), body);
}

export function mountCompare(root, { query }) {
  let alive = true;
  const ids = (new URLSearchParams(query).get("jobs") || "").split(",").filter(Boolean);
  const slot = h("div", { id: "compare-body" });
  const open = (chosen) => { location.hash = `#/compare?jobs=${chosen.map(encodeURIComponent).join(",")}`; };
  fill(root,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Compare runs")),
    picker(root, ids, open),
    slot);

  async function load() {
    if (ids.length < 2) return;
    fill(slot, h("p", { class: "muted" }, "Loading results…"));
    try {
      const runs = await Promise.all(ids.map(async (id, i) => {
        const [job, body] = await Promise.all([api.getJob(id), api.result(id)]);
        return { job, body, dists: distributions(body), color: i };
      }));
      if (alive) fill(slot, comparison(runs));
    } catch (err) {
      if (alive) fill(slot, problemBox(err, "Could not load these runs"));
    }
  }
  load();
  return { title: "Compare runs", destroy() { alive = false; } };
}
