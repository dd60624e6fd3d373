// Pieces every result view shares: the warnings banner and the downloads bar.

import { h } from "../dom.js";

/** A banner listing result warnings; red when any says every trial failed. */
export function warningBanner(warnings, { id, title } = {}) {
  const severe = warnings.some((w) => w.code === "output_all_errors");
  return h("section", { class: `banner ${severe ? "banner-error" : "banner-warn"}`, id, role: severe ? "alert" : "status" },
    h("strong", { class: "banner-title" }, title || (severe ? "Errors in every trial" : "Warnings")),
    h("ul", {}, warnings.map((w) => h("li", { dataset: { code: w.code || "" } }, w.message))));
}

/** JSON, summary CSV/XLSX and the job's artifacts as download links. */
export function downloadBar(body, jobId) {
  const base = `/api/jobs/${encodeURIComponent(jobId)}`;
  const short = jobId.slice(0, 8);
  const links = [
    { href: `${base}/result`, name: `montesim-${short}-result.json`, text: "Result JSON", key: "json" },
    { href: `${base}/summary.csv`, name: `montesim-${short}-summary.csv`, text: "Summary CSV", key: "csv" },
    { href: `${base}/summary.xlsx`, name: `montesim-${short}-summary.xlsx`, text: "Summary XLSX", key: "xlsx" },
    ...(body.artifacts || []).map((a) => ({ href: a.href, name: a.name, text: a.name, key: a.name, artifact: true })),
  ];
  const r = body.result || {};
  const kept = r.raw_iterations ?? r.raw_trials;
  const total = r.iterations ?? r.trials;
  const partial = Number.isFinite(kept) && Number.isFinite(total) && kept < total && (body.artifacts || []).length
    ? h("span", { class: "muted small", id: "raw-note" },
      `Raw downloads hold the first ${kept.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${r.trials ? "trials" : "iterations"}.`)
    : null;
  return h("nav", { class: "download-bar", "aria-label": "Downloads" },
    h("span", { class: "muted small" }, "Download"),
    links.map((l) => h("a", { class: "button mini", href: l.href, download: l.name, dataset: l.artifact ? { download: l.key, artifact: l.name } : { download: l.key } }, l.text)),
    partial,
    h("a", { class: "button mini compare-link", href: `#/compare?jobs=${encodeURIComponent(jobId)}`, id: "compare-with" }, "Compare with other runs…"));
}
