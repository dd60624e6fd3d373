// The job list: newest first, status filter, pagination, live bars (polled while shown).

import { api, ACTIVE } from "../api.js";
import { fill, h } from "../dom.js";
import { number, shortId, time } from "../format.js";
import { doneText, progressBar, statusBadge } from "../progress.js";
import { problemBox } from "./problem.js";

const FILTERS = [
  ["", "All"],
  ["queued,running", "Active"],
  ["queued", "Queued"],
  ["running", "Running"],
  ["complete", "Complete"],
  ["error", "Error"],
  ["cancelled", "Cancelled"],
];
const PAGE_SIZES = [20, 50, 100];
const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 5000;

function readQuery(query) {
  const q = new URLSearchParams(query);
  const limit = PAGE_SIZES.includes(Number(q.get("limit"))) ? Number(q.get("limit")) : PAGE_SIZES[0];
  const offset = Math.max(0, Number.parseInt(q.get("offset") || "0", 10) || 0);
  return { status: q.get("status") || "", limit, offset, engine: q.get("engine") || "",
    label: q.get("label") || "", fileName: q.get("file_name") || "" };
}

const TYPING_DELAY_MS = 250;

function writeQuery(state) {
  const q = new URLSearchParams();
  if (state.status) q.set("status", state.status);
  if (state.engine) q.set("engine", state.engine);
  if (state.label) q.set("label", state.label);
  if (state.fileName) q.set("file_name", state.fileName);
  if (state.limit !== PAGE_SIZES[0]) q.set("limit", String(state.limit));
  if (state.offset) q.set("offset", String(state.offset));
  const hash = `#/jobs${q.toString() ? `?${q}` : ""}`;
  // replaceState: the filter is part of the URL without remounting the view.
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

/** An engine's own summary of a job (``config_summary``, e.g. a horn's formula and
 * frequencies) as words: "R-OSSE · 500–8,000 Hz · 12 frequencies · free standing". */
export function describeConfig(config) {
  const parts = [];
  for (const [key, value] of Object.entries(config || {})) {
    if (value === null || value === undefined || value === "") continue;
    if (key === "frequency_range" && Array.isArray(value)) {
      const [low, high] = value;
      if (typeof low === "number" && typeof high === "number") {
        parts.push(low === high ? `${number(low)} Hz` : `${number(low)}–${number(high)} Hz`);
      }
    } else if (key === "num_frequencies") {
      parts.push(`${number(value)} ${value === 1 ? "frequency" : "frequencies"}`);
    } else if (key === "formula_type") {
      parts.push(String(value));
    } else if (typeof value === "string") {
      parts.push(value.replace(/_/g, " "));
    } else if (typeof value === "number" || typeof value === "boolean") {
      parts.push(`${key.replace(/_/g, " ")} ${typeof value === "number" ? number(value) : value}`);
    }
  }
  return parts.join(" · ");
}

/** The spec summary without the file id where the file's name is shown instead; an
 * engine's JSON summary in words. */
export function specSummary(job) {
  if (job.config_summary && Object.keys(job.config_summary).length) return describeConfig(job.config_summary);
  const text = job.spec_summary || "";
  if (!job.file_name) return text;
  return text.split(/,\s*/).filter((part) => !/^(\w+_)?file_id=/.test(part)).join(", ");
}

function jobRow(job) {
  const bar = progressBar({ label: `Progress of ${job.label || shortId(job.job_id)}` });
  bar.update(job);
  const title = job.label || `Job ${shortId(job.job_id)}`;
  return h(
    "tr",
    { dataset: { jobId: job.job_id, status: job.status } },
    h("td", { "data-label": "Job" },
      h("a", { href: `#/jobs/${job.job_id}`, class: "job-link" }, title),
      job.label ? h("div", { class: "muted small mono" }, shortId(job.job_id)) : null,
      job.file_name ? h("div", { class: "small workbook-name", title: "Workbook or tree file" }, job.file_name) : null,
      specSummary(job) ? h("div", { class: "muted small" }, specSummary(job)) : null),
    h("td", { "data-label": "Engine" }, job.engine),
    h("td", { "data-label": "Status" }, statusBadge(job)),
    h("td", { "data-label": "Progress", class: "progress-cell" }, bar.el,
      h("div", { class: "muted small" }, doneText(job))),
    h("td", { "data-label": "Created" }, h("time", { datetime: job.created_at }, time(job.created_at))),
  );
}

export function mountList(root, { query }) {
  const state = readQuery(query);
  let timer = null;
  let alive = true;
  let loading = false;
  let again = false;
  let shown = null;

  const statusSelect = h("select", { id: "status-filter", onChange: () => {
    state.status = statusSelect.value;
    state.offset = 0;
    refresh();
  } }, FILTERS.map(([value, text]) => h("option", { value, selected: value === state.status }, text)));
  const sizeSelect = h("select", { id: "page-size", onChange: () => {
    state.limit = Number(sizeSelect.value);
    state.offset = 0;
    refresh();
  } }, PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === state.limit }, String(n))));

  const engineSelect = h("select", { id: "engine-filter", onChange: () => {
    state.engine = engineSelect.value;
    state.offset = 0;
    refresh();
  } }, h("option", { value: "" }, "All engines"), state.engine ? h("option", { value: state.engine, selected: true }, state.engine) : null);
  api.engines().then((list) => {
    // engines meant for users (the one in the URL too, so a filter link keeps working)
    const names = (list.engines || list || [])
      .filter((e) => e.user_facing !== false || e.name === state.engine)
      .map((e) => e.name).filter(Boolean);
    fill(engineSelect, h("option", { value: "" }, "All engines"),
      names.map((n) => h("option", { value: n, selected: n === state.engine }, n)));
  }).catch(() => {});
  let typing = null;
  const textFilter = (id, key, placeholder) => {
    const input = h("input", { type: "search", id, value: state[key], placeholder, class: "filter-text" });
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        state[key] = input.value.trim();
        state.offset = 0;
        refresh();
      }, TYPING_DELAY_MS);
    });
    return input;
  };
  const labelFilter = textFilter("label-filter", "label", "Label contains…");
  const fileFilter = textFilter("file-filter", "fileName", "Workbook or file name…");

  const body = h("div", { id: "job-list", "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading jobs…"));
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const errorSlot = h("div");

  fill(
    root,
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Jobs"),
      h("a", { href: "#/new", class: "button primary" }, "New job")),
    // each label with its control, so a narrow screen wraps pairs, never a label from its box
    h("div", { class: "toolbar" },
      h("span", { class: "filter-pair" }, h("label", { for: "status-filter" }, "Status "), statusSelect),
      h("span", { class: "filter-pair" }, h("label", { for: "engine-filter" }, "Engine "), engineSelect),
      h("span", { class: "filter-pair" }, h("label", { for: "label-filter", class: "visually-hidden" }, "Label"), labelFilter),
      h("span", { class: "filter-pair" }, h("label", { for: "file-filter", class: "visually-hidden" }, "Workbook"), fileFilter),
      h("span", { class: "filter-pair" }, h("label", { for: "page-size" }, "Per page "), sizeSelect)),
    errorSlot,
    body,
    pager,
  );

  function renderPager(page) {
    const first = page.total ? page.offset + 1 : 0;
    const last = Math.min(page.offset + page.items.length, page.total);
    const go = (offset) => () => { state.offset = Math.max(0, offset); refresh(); };
    fill(
      pager,
      h("span", { class: "muted", id: "page-info" }, `${first}–${last} of ${page.total}`),
      h("button", { type: "button", disabled: page.offset <= 0, onClick: go(page.offset - page.limit) }, "Newer"),
      h("button", { type: "button", disabled: page.offset + page.limit >= page.total, onClick: go(page.offset + page.limit) }, "Older"),
    );
  }

  function render(page) {
    // Re-render only on change: keeps focus and avoids flicker while polling.
    const fingerprint = JSON.stringify(page);
    if (fingerprint === shown) return;
    shown = fingerprint;
    body.setAttribute("aria-busy", "false");
    if (!page.items.length) {
      const filtered = state.status || state.engine || state.label || state.fileName;
      fill(body, h("p", { class: "empty" }, filtered ? "No jobs match these filters." : "No jobs yet. ",
        filtered ? null : h("a", { href: "#/new" }, "Submit one.")));
    } else {
      fill(body, h("table", { class: "jobs" },
        h("thead", {}, h("tr", {}, ["Job", "Engine", "Status", "Progress", "Created"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, page.items.map(jobRow))));
    }
    renderPager(page);
  }

  async function load() {
    let page = await api.listJobs(state);
    // Past the end (jobs deleted or pruned): step back to the last page.
    if (alive && !page.items.length && page.total && state.offset) {
      state.offset = Math.floor((page.total - 1) / state.limit) * state.limit;
      page = await api.listJobs(state);
    }
    return page;
  }

  async function refresh() {
    if (!alive) return;
    if (loading) {
      again = true; // a filter or page changed mid-request: load once more after it
      return;
    }
    clearTimeout(timer);
    loading = true;
    let delay = IDLE_POLL_MS;
    try {
      const page = await load();
      if (!alive) return;
      writeQuery(state);
      fill(errorSlot);
      render(page);
      if (page.items.some((j) => ACTIVE.has(j.status))) delay = ACTIVE_POLL_MS;
    } catch (err) {
      if (alive) fill(errorSlot, problemBox(err, "Could not load jobs"));
    } finally {
      loading = false;
    }
    if (alive) timer = setTimeout(refresh, again ? 0 : delay);
    again = false;
  }

  refresh();
  return {
    title: "Jobs",
    destroy() {
      alive = false;
      clearTimeout(timer);
      clearTimeout(typing);
    },
  };
}
