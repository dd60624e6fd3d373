// The result of a complete job: scalar figures, per-output/per-node statistics, charts
// drawn from the data in the result, artifact downloads, and the raw JSON.

import { h } from "./dom.js";
import { number } from "./format.js";
import { histogram, lineChart } from "./charts.js";
import { renderExcelResult } from "./views/excel-result.js";
import { renderRiskResult } from "./views/risk-result.js";
import { renderHorn } from "./horn.js";

const MAX_HISTOGRAMS = 12;
const PREFERRED_SUBKEYS = ["p5", "p50", "p90", "p95", "p99", "p99.5", "95", "99"];

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isScalar = (v) => v === null || ["number", "string", "boolean"].includes(typeof v);
const numericMap = (v) => isObject(v) && Object.values(v).length > 0 && Object.values(v).every((x) => x === null || typeof x === "number");

function cell(value) {
  if (typeof value === "number") return h("td", { class: "num", dataset: { value: String(value) }, title: String(value) }, number(value));
  return h("td", {}, value === null || value === undefined ? "—" : String(value));
}

/** Top-level scalars as a two-column table. */
function scalarTable(result) {
  const rows = Object.entries(result).filter(([, v]) => isScalar(v));
  if (!rows.length) return null;
  return h(
    "table",
    { class: "kv", "aria-label": "Summary" },
    h("tbody", {}, rows.map(([k, v]) => h("tr", { dataset: { key: k } }, h("th", { scope: "row" }, k), cell(v)))),
  );
}

/** A dict of per-item statistics (Excel outputs, risk-tree nodes): one row per item. */
function isStatsGroup(value) {
  if (!isObject(value)) return false;
  const items = Object.values(value);
  return items.length > 0 && items.every((it) => isObject(it) && Object.values(it).filter((x) => typeof x === "number").length >= 2);
}

function statsColumns(items) {
  const cols = [];
  const seen = new Set();
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      if (seen.has(key)) continue;
      if (typeof value === "number" || typeof value === "string") {
        seen.add(key);
        cols.push({ title: key, num: typeof value === "number", get: (it) => it[key] });
      } else if (numericMap(value)) {
        seen.add(key);
        const subs = Object.keys(value);
        const chosen = subs.length <= 5 ? subs : subs.filter((k) => PREFERRED_SUBKEYS.includes(k)).slice(0, 5);
        for (const sub of chosen) cols.push({ title: `${key}.${sub}`, num: true, get: (it) => it[key]?.[sub] });
      }
    }
  }
  return cols;
}

function statsTable(name, group) {
  const entries = Object.entries(group);
  const cols = statsColumns(entries.map(([, v]) => v));
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": `${name} statistics` },
    h(
      "table",
      { class: "stats", dataset: { group: name } },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, name), cols.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.title)))),
      h("tbody", {}, entries.map(([key, item]) =>
        h("tr", { dataset: { key } }, h("th", { scope: "row" }, key), cols.map((c) => cell(c.get(item)))))),
    ),
  );
}

/** The first Vega-Lite spec anywhere in the result (risk trees put one under `chart`). */
function findVegaLite(value, depth = 0) {
  if (!isObject(value) || depth > 3) return null;
  if (typeof value.$schema === "string" && value.$schema.includes("vega-lite")) return value;
  for (const v of Object.values(value)) {
    const found = findVegaLite(v, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Vega-Lite can't load here (no CDN), so draw its line layer's data as an SVG chart. */
function chartFromVegaLite(spec) {
  const layers = Array.isArray(spec.layer) ? spec.layer : [spec];
  const line = layers.find((l) => (l.mark?.type || l.mark) === "line" && Array.isArray(l.data?.values));
  if (!line) return null;
  const enc = line.encoding || {};
  const xf = enc.x?.field;
  const yf = enc.y?.field;
  if (!xf || !yf) return null;
  const cf = enc.color?.field;
  const groups = new Map();
  for (const row of line.data.values) {
    const key = cf ? String(row[cf]) : yf;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push([row[xf], row[yf]]);
  }
  return lineChart(
    [...groups].map(([name, points]) => ({ name, points })),
    {
      title: typeof spec.title === "string" ? spec.title : spec.title?.text,
      xTitle: enc.x.title || xf,
      yTitle: enc.y.title || yf,
      xLog: enc.x.scale?.type === "log",
      yLog: enc.y.scale?.type === "log",
      yFormat: enc.y.axis?.format === "%" ? (v) => `${+(v * 100).toPrecision(3)}%` : undefined,
    },
  );
}

/** Without a Vega-Lite spec: LEC points ({loss, exceedance}) of stats items, if any. */
function chartFromLecs(group) {
  const series = Object.entries(group)
    .filter(([, it]) => Array.isArray(it.lec?.loss) && Array.isArray(it.lec?.exceedance))
    .slice(0, 6)
    .map(([name, it]) => ({ name, points: it.lec.loss.map((x, i) => [x, it.lec.exceedance[i]]) }));
  if (!series.length) return null;
  return lineChart(series, { title: "Loss exceedance", xTitle: "Loss", yTitle: "P(loss ≥ x)", yLog: true });
}

function histograms(group) {
  return Object.entries(group)
    .filter(([, it]) => isObject(it.histogram))
    .slice(0, MAX_HISTOGRAMS)
    .map(([name, it]) => histogram(it.histogram, { title: name }))
    .filter(Boolean);
}

function artifactList(artifacts) {
  if (!artifacts?.length) return null;
  return h(
    "section",
    { class: "artifacts", "aria-labelledby": "artifacts-title" },
    h("h3", { id: "artifacts-title" }, "Downloads"),
    h("ul", {}, artifacts.map((a) =>
      h("li", {}, h("a", { href: a.href, download: a.name, dataset: { artifact: a.name } }, a.name),
        a.media_type ? h("span", { class: "muted" }, ` (${a.media_type})`) : null))),
  );
}

function rawJson(result) {
  const pre = h("pre", { class: "json" });
  const details = h("details", { class: "raw" }, h("summary", {}, "Raw result JSON"), pre);
  // Large results: build the text only when someone opens it.
  details.addEventListener("toggle", () => {
    if (details.open && !pre.textContent) pre.textContent = JSON.stringify(result, null, 2);
  });
  return details;
}

/** The result section for a GET /api/jobs/{id}/result body. */
export function renderResult(body) {
  if (body.engine === "horn") return renderHorn(body, { artifactList, rawJson });
  const result = body.result;
  if (body.engine === "excel" && isObject(result?.outputs)) {
    return h("div", { class: "result", id: "job-result" }, renderExcelResult(body, { jobId: body.job_id }), rawJson(result));
  }
  if (body.engine === "risktree" && isObject(result?.nodes)) {
    return h("div", { class: "result", id: "job-result" }, renderRiskResult(body, { jobId: body.job_id }), rawJson(result));
  }
  const parts = [];
  if (isObject(result)) {
    parts.push(scalarTable(result));
    const groups = Object.entries(result).filter(([, v]) => isStatsGroup(v));
    const vega = findVegaLite(result);
    const charts = [];
    if (vega) charts.push(chartFromVegaLite(vega));
    for (const [name, group] of groups) {
      parts.push(h("h3", {}, name), statsTable(name, group));
      if (!vega) charts.push(chartFromLecs(group));
      charts.push(...histograms(group));
    }
    const drawn = charts.filter(Boolean);
    if (drawn.length) parts.push(h("h3", {}, "Charts"), h("div", { class: "charts" }, drawn));
  } else {
    parts.push(h("pre", { class: "json" }, JSON.stringify(result, null, 2)));
  }
  parts.push(artifactList(body.artifacts), rawJson(result));
  return h("div", { class: "result", id: "job-result" }, parts);
}
