// The Excel results dashboard: per output, histogram and cumulative curve with markers and
// a delimiter band, statistics, tornado, contribution to variance, spider, error trials;
// then the inputs as sampled and the output correlation heat map. All from the result JSON.

import { fill, h } from "../dom.js";
import { integer, number } from "../format.js";
import { chartCard, pct, short } from "../charts/core.js";
import { cdfFromHistogram, cdfSvg, histogramSvg, quantileFromEcdf } from "../charts/distribution.js";
import { barsSvg, heatmapSvg, miniHistogramSvg, spiderSvg } from "../charts/sensitivity.js";
import { downloadBar, warningBanner } from "./result-common.js";

const DEFAULT_MARKERS = [5, 50, 95];

/** Plain-language rows of the statistics table: [label, value, key]. */
export function statRows(o, iterations) {
  const p = o.percentiles || {};
  const rows = [
    ["Mean", o.mean, "mean"],
    ["Std dev", o.std, "std"],
    ["Minimum", o.min, "min"],
    ["Maximum", o.max, "max"],
    ...Object.keys(p).map((k) => [k.toUpperCase(), p[k], k]),
    ["95% CI of the mean", o.ci95_mean ? `${number(o.ci95_mean[0])} to ${number(o.ci95_mean[1])}` : null, "ci95"],
    ["Skewness", o.skewness, "skewness"],
    ["Excess kurtosis", o.kurtosis, "kurtosis"],
    ["Valid trials", o.n, "n"],
    ["Error trials", o.error_trials ? `${integer(o.error_trials)} (${pct(o.error_trials / iterations)})` : 0, "errors"],
  ];
  return rows;
}

function statsTable(o, iterations) {
  return h("table", { class: "stat-table", "aria-label": "Summary statistics" },
    h("tbody", {}, statRows(o, iterations).map(([label, value, key]) =>
      h("tr", { dataset: { stat: key } }, h("th", { scope: "row" }, label),
        h("td", { class: "num", title: typeof value === "number" ? String(value) : null,
          dataset: typeof value === "number" ? { value: String(value) } : {} },
          typeof value === "number" ? number(value) : value ?? "—")))));
}

/** The value at percentile q (0..100): the exact stored percentile, else the ECDF's. */
export function percentileOf(o, q) {
  const key = `p${q}`;
  if (o.percentiles && key in o.percentiles) return o.percentiles[key];
  return quantileFromEcdf(o.ecdf, q / 100);
}

function parseMarkers(text) {
  const out = [];
  for (const part of text.split(/[,\s]+/)) {
    if (!part) continue;
    const q = Number(part);
    if (!Number.isInteger(q) || q < 0 || q > 100) return null;
    if (!out.includes(q)) out.push(q);
  }
  return out.sort((a, b) => a - b);
}

function errorCard(name, o, warnings, iterations) {
  const errors = Object.entries(o.errors || {});
  const body = errors.length
    ? h("table", { class: "stat-table", id: "error-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Error"), h("th", { class: "num" }, "Trials"), h("th", { class: "num" }, "Share"), h("th", {}, "First cell"))),
      h("tbody", {}, errors.map(([err, n]) => {
        const w = warnings.find((x) => x.error === err);
        return h("tr", { dataset: { error: err } }, h("th", { scope: "row" }, h("code", {}, err)),
          h("td", { class: "num" }, integer(n)), h("td", { class: "num" }, pct(n / iterations)),
          h("td", {}, w?.origin ? h("code", {}, w.origin) : h("span", { class: "muted" }, "not traced")));
      })))
    : h("p", { class: "muted" }, "No trial of this output gave an error.");
  return h("section", { class: "panel", id: "error-card" },
    h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Error trials")), body);
}

function outputPanel(name, o, result) {
  const iterations = result.iterations;
  const outWarnings = (result.warnings || []).filter((w) => w.output === name);
  const allErrors = o.n === 0;
  const parts = [];
  if (outWarnings.length) parts.push(warningBanner(outWarnings, { id: "output-warnings" }));
  if (allErrors) {
    parts.push(h("div", { class: "all-errors", role: "alert", id: "all-errors" },
      h("strong", {}, `No statistics for ${name}: `),
      `every one of the ${integer(iterations)} trials is an error`,
      outWarnings[0]?.origin ? [" (first produced by ", h("code", {}, outWarnings[0].origin), ")"] : null, "."));
    parts.push(h("div", { class: "dash-grid" }, errorCard(name, o, outWarnings, iterations)));
    return h("div", { class: "output-panel", dataset: { output: name } }, parts);
  }

  // Markers and the delimiter band are shared by the histogram and the CDF.
  const lo0 = o.histogram?.edges?.[0] ?? o.min;
  const hi0 = o.histogram?.edges?.at(-1) ?? o.max;
  const state = { markers: DEFAULT_MARKERS, band: [percentileOf(o, 5), percentileOf(o, 95)] };
  const markerInput = h("input", { type: "text", id: "marker-input", value: DEFAULT_MARKERS.join(", "),
    class: "short", "aria-describedby": "marker-help", inputmode: "numeric" });
  const markerHelp = h("span", { id: "marker-help", class: "muted small" }, "percentiles, 0–100");
  const step = (hi0 - lo0) / 1000 || 1;
  const lowRange = h("input", { type: "range", min: lo0, max: hi0, step, value: state.band[0], id: "band-low", "aria-label": "Left delimiter" });
  const highRange = h("input", { type: "range", min: lo0, max: hi0, step, value: state.band[1], id: "band-high", "aria-label": "Right delimiter" });
  const readout = h("div", { class: "band-readout", id: "band-readout", "aria-live": "polite" });

  const markers = () => [
    { key: "mean", x: o.mean, label: `mean ${short(o.mean)}`, title: "Mean", kind: "mean" },
    ...state.markers.map((q) => {
      const v = percentileOf(o, q);
      return { key: `p${q}`, x: v, label: `P${q} ${short(v)}`, title: `P${q}`, kind: "pct" };
    }),
  ];
  const band = () => [Math.min(...state.band), Math.max(...state.band)];

  const histCard = chartCard({
    title: `Distribution of ${name}`, name: `${name}-histogram`, id: "histogram-card", wide: true,
    controls: h("div", { class: "chart-controls" },
      h("label", { for: "marker-input" }, "Markers"), markerInput, markerHelp),
    footer: h("div", { class: "delimiters" },
      h("div", { class: "delimiter" }, h("label", { for: "band-low" }, "Left"), lowRange),
      h("div", { class: "delimiter" }, h("label", { for: "band-high" }, "Right"), highRange),
      readout),
  });
  const cdfCard = chartCard({ title: `Cumulative distribution of ${name}`, name: `${name}-cdf`, id: "cdf-card" });

  function draw() {
    const [a, b] = band();
    histCard.setSvg(histogramSvg(o.histogram, { title: name, markers: markers(), band: [a, b], xTitle: name }));
    cdfCard.setSvg(cdfSvg(o.ecdf, { title: name, markers: markers(), band: [a, b], xTitle: name }));
    const below = cdfFromHistogram(o.histogram, a);
    const inside = cdfFromHistogram(o.histogram, b) - below;
    fill(readout,
      h("span", { class: "band-part" }, h("b", {}, pct(below)), ` below ${short(a, 4)}`),
      h("span", { class: "band-part main", dataset: { probability: String(inside) } }, h("b", {}, pct(inside)), ` between ${short(a, 4)} and ${short(b, 4)}`),
      h("span", { class: "band-part" }, h("b", {}, pct(Math.max(0, 1 - below - inside))), ` above ${short(b, 4)}`));
  }
  lowRange.addEventListener("input", () => { state.band[0] = Number(lowRange.value); draw(); });
  highRange.addEventListener("input", () => { state.band[1] = Number(highRange.value); draw(); });
  markerInput.addEventListener("change", () => {
    const parsed = parseMarkers(markerInput.value);
    markerInput.setAttribute("aria-invalid", parsed ? "false" : "true");
    if (!parsed) return;
    state.markers = parsed;
    draw();
  });
  draw();

  const statsCard = h("section", { class: "panel", id: "stats-card" },
    h("div", { class: "panel-head" }, h("h3", { class: "panel-title" }, "Summary statistics")),
    o.cell ? h("p", { class: "muted small cell-ref" }, "Cell ", h("code", {}, o.cell)) : null,
    statsTable(o, iterations));

  const sens = o.sensitivity || {};
  const partial = result.raw_iterations < iterations
    ? `Based on the first ${integer(result.raw_iterations)} of ${integer(iterations)} iterations (the kept raw-input window).`
    : `Based on all ${integer(iterations)} iterations.`;
  const tornadoItems = (sens.tornado || []).filter((t) => t.rho !== null).map((t) => ({ label: t.input, value: t.rho }));
  const cvItems = (sens.contribution_to_variance || []).filter((c) => c.share !== null)
    .map((c) => ({ label: c.input, value: c.share })).sort((a, b) => b.value - a.value);
  const modeSelect = h("select", { id: "tornado-mode", "aria-label": "Tornado measure" },
    h("option", { value: "rank" }, "Rank correlation"), h("option", { value: "variance" }, "Contribution to variance"));
  const tornadoCard = chartCard({ title: `What drives ${name}`, name: `${name}-tornado`, id: "tornado-card", note: partial,
    controls: h("div", { class: "chart-controls" }, h("label", { for: "tornado-mode" }, "Measure"), modeSelect) });
  const drawTornado = () => {
    const rank = modeSelect.value === "rank";
    tornadoCard.setSvg(rank
      ? barsSvg(tornadoItems, { title: `Tornado of ${name} by rank correlation`, signed: true, axisTitle: "Spearman rank correlation with the output" })
      : barsSvg(cvItems, { title: `Contribution to variance of ${name}`, signed: false, kind: "variance", format: (v) => pct(v), axisTitle: "share of variance (ρ² normalised)" }));
  };
  modeSelect.addEventListener("change", drawTornado);
  drawTornado();
  const spiderCard = chartCard({ title: `Spider plot of ${name}`, name: `${name}-spider`, id: "spider-card",
    svg: spiderSvg(sens.spider, { title: `Spider plot of ${name}`, yTitle: `change in mean ${name}` }), note: partial });

  parts.push(h("div", { class: "dash-grid" }, histCard.el, statsCard),
    h("div", { class: "dash-grid even" }, cdfCard.el, tornadoCard.el, spiderCard.el, errorCard(name, o, outWarnings, iterations)));
  return h("div", { class: "output-panel", dataset: { output: name } }, parts);
}

function inputsSection(result) {
  const inputs = result.inputs || [];
  if (!inputs.length) return null;
  const note = result.raw_iterations < result.iterations
    ? `Sampled values of the first ${integer(result.raw_iterations)} of ${integer(result.iterations)} iterations.`
    : `Sampled values of all ${integer(result.iterations)} iterations.`;
  return h("section", { class: "dash-section", id: "inputs-section" },
    h("h3", {}, "Inputs as sampled"), h("p", { class: "muted small" }, note),
    h("div", { class: "input-grid" }, inputs.map((d) => {
      const card = chartCard({ title: d.name, name: `input-${d.name}`,
        svg: d.histogram ? miniHistogramSvg(d.histogram, { title: d.name, mean: d.mean }) : null });
      card.el.dataset.input = d.name;
      card.el.append(h("p", { class: "input-facts small" },
        h("span", { class: "family" }, `${d.family}(${(d.params || []).map((p) => (Array.isArray(p) ? `[${p.join(", ")}]` : short(p, 4))).join(", ")})`),
        h("span", { class: "muted" }, ` · ${d.cell} · mean ${short(d.mean, 4)} · P5–P95 ${short(d.percentiles?.p5, 3)} – ${short(d.percentiles?.p95, 3)}`)));
      return card.el;
    })));
}

function statisticsSection(result) {
  const stats = result.statistics || [];
  if (!stats.length) return null;
  return h("section", { class: "dash-section", id: "workbook-statistics" },
    h("h3", {}, "Statistics cells of the workbook"),
    h("p", { class: "muted small" }, "The workbook's @RISK statistics functions, computed from this run's iterations (error trials left out)."),
    h("table", { class: "stat-table wide", "aria-label": "Statistics cells" },
      h("thead", {}, h("tr", {}, ["Cell", "Formula", "Of output", "Value"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, stats.map((s) => h("tr", { dataset: { cell: s.cell } },
        h("th", { scope: "row" }, s.cell), h("td", {}, h("code", {}, s.formula)), h("td", {}, s.of),
        h("td", { class: "num", title: s.value == null ? "not defined for these values" : String(s.value),
          dataset: s.value == null ? {} : { value: String(s.value) } },
          s.value == null ? "—" : number(s.value)))))));
}

function correlationSection(result) {
  const corr = result.output_correlation;
  if (!corr?.names || corr.names.length < 2) return null;
  if (corr.n < 2) {
    return h("section", { class: "dash-section" }, h("h3", {}, "How the outputs move together"),
      h("p", { class: "banner banner-warn", id: "correlation-missing" },
        "Not computed: no iteration gave a number for every output (see the error trials above)."));
  }
  const card = chartCard({ title: "Output correlation (rank)", name: "output-correlation", id: "correlation-card",
    svg: heatmapSvg({ names: corr.names, matrix: corr.spearman }, { title: "Output rank correlation" }),
    note: corr.n < result.iterations ? `Spearman correlation over the first ${integer(corr.n)} of ${integer(result.iterations)} iterations.` : "Spearman rank correlation over every iteration." });
  return h("section", { class: "dash-section" }, h("h3", {}, "How the outputs move together"), card.el);
}

/** The dashboard for a complete Excel job's result body. */
export function renderExcelResult(body, { jobId }) {
  const result = body.result;
  const names = Object.keys(result.outputs || {});
  const panel = h("div", { id: "output-panel" });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Outputs" });
  function select(name) {
    for (const t of tabs.children) t.setAttribute("aria-selected", String(t.dataset.output === name));
    fill(panel, outputPanel(name, result.outputs[name], result));
  }
  for (const name of names) {
    const o = result.outputs[name];
    const bad = o.n === 0 ? "all" : o.error_trials ? "some" : "";
    tabs.append(h("button", { type: "button", role: "tab", class: `tab${bad ? ` tab-${bad}` : ""}`, dataset: { output: name },
      onClick: () => select(name) }, name, bad ? h("span", { class: "tab-flag", title: `${bad === "all" ? "every" : "some"} trials are errors` }, "!") : null));
  }
  const facts = h("div", { class: "run-strip" },
    [["Iterations", integer(result.iterations)], ["Seed", String(result.seed)], ["Sampling", result.sampling],
      ["Outputs", integer(names.length)], ["Inputs", integer((result.inputs || []).length)],
      ["Raw iterations kept", integer(result.raw_iterations)]]
      .map(([k, v]) => h("div", { class: "run-fact" }, h("span", { class: "muted small" }, k), h("b", {}, v))));
  const jobWarnings = result.warnings || [];
  const view = h("div", { class: "dashboard", id: "excel-dashboard" },
    jobWarnings.length ? warningBanner(jobWarnings, { id: "job-warnings", title: "Read before using these numbers" }) : null,
    facts,
    downloadBar(body, jobId),
    h("h3", {}, "Outputs"),
    tabs,
    panel,
    statisticsSection(result),
    inputsSection(result),
    correlationSection(result));
  if (names.length) select(names[0]);
  return view;
}
