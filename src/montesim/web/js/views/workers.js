// #/workers: every montesim process on the store (GET /api/workers), polled while shown,
// and a link to the Dask dashboard when a worker's scheduler reports one.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { integer, shortId, time } from "../format.js";
import { problemBox } from "./problem.js";

const POLL_MS = 2000;

function ago(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return "—";
  return seconds < 60 ? `${seconds.toFixed(0)} s ago` : `${(seconds / 60).toFixed(0)} min ago`;
}

function workerRow(w) {
  const jobs = w.jobs.length
    ? w.jobs.map((id) => h("a", { href: `#/jobs/${encodeURIComponent(id)}`, class: "mono" }, shortId(id)))
    : [h("span", { class: "muted" }, "none")];
  return h(
    "tr",
    { dataset: { workerId: w.id, role: w.role, alive: String(w.alive) } },
    h("td", { "data-label": "Host" }, w.host, h("div", { class: "muted small mono" }, w.id)),
    h("td", { "data-label": "PID" }, String(w.pid)),
    h("td", { "data-label": "Role" }, w.role),
    h("td", { "data-label": "Version" }, w.version),
    h("td", { "data-label": "Executor" }, w.executor || "—",
      w.dask_workers !== null && w.dask_workers !== undefined
        ? h("div", { class: "muted small" }, `${w.dask_workers} Dask worker${w.dask_workers === 1 ? "" : "s"}`) : null),
    h("td", { "data-label": "Current jobs", class: "worker-jobs" }, jobs.flatMap((el, i) => (i ? [" ", el] : [el]))),
    h("td", { "data-label": "Last heartbeat" },
      h("time", { datetime: w.heartbeat_at, title: time(w.heartbeat_at) }, ago(w.heartbeat_at)),
      w.alive ? null : h("div", { class: "badge badge-error" }, "silent")),
    h("td", { "data-label": "Chunks done", class: "num" }, integer(w.chunks_done)),
  );
}

export function mountWorkers(root) {
  let alive = true;
  let timer = null;
  const errorSlot = h("div");
  const dashboard = h("p", { id: "dask-dashboard" });
  const body = h("div", { id: "worker-list", "aria-live": "polite", "aria-busy": "true" },
    h("p", { class: "muted" }, "Loading workers…"));
  fill(root,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Workers")),
    h("p", { class: "muted" }, "Every montesim process sharing this store: API servers and workers, as each last reported."),
    dashboard, errorSlot, body);

  function render(data) {
    body.setAttribute("aria-busy", "false");
    fill(dashboard, data.dask_dashboard
      ? ["Dask cluster: ", h("a", { href: data.dask_dashboard, target: "_blank", rel: "noopener", id: "dask-dashboard-link" }, "open the Dask dashboard")]
      : []);
    if (!data.items.length) {
      fill(body, h("p", { class: "empty" }, "No process has reported yet."));
      return;
    }
    fill(body, h("table", { class: "jobs workers" },
      h("thead", {}, h("tr", {}, ["Host", "PID", "Role", "Version", "Executor", "Current jobs", "Last heartbeat", "Chunks done"]
        .map((t) => h("th", { scope: "col", class: t === "Chunks done" ? "num" : null }, t)))),
      h("tbody", {}, data.items.map(workerRow))));
  }

  async function refresh() {
    try {
      const data = await api.workers();
      if (!alive) return;
      fill(errorSlot);
      render(data);
    } catch (err) {
      if (alive) fill(errorSlot, problemBox(err, "Could not load the workers"));
    }
    if (alive) timer = setTimeout(refresh, POLL_MS);
  }
  refresh();
  return { title: "Workers", destroy() { alive = false; clearTimeout(timer); } };
}
