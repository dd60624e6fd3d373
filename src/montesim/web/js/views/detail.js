// One job: live progress record, actions (cancel, delete, label), error, result.

import { api, ACTIVE, TERMINAL } from "../api.js";
import { facts, fill, h } from "../dom.js";
import { duration, integer, rate, shortId, time } from "../format.js";
import { doneText, progressBar, statusBadge } from "../progress.js";
import { watchJob } from "../live.js";
import { renderResult } from "../result.js";
import { problemBox } from "./problem.js";

// The fields of a progress record (events carry these plus id, kind, job_id, ts).
const RECORD_FIELDS = [
  "status", "progress", "done", "total", "unit", "chunks_done", "chunks_total", "stage",
  "stage_message", "rate", "eta_seconds", "elapsed_seconds", "stalled",
  "cancellation_requested", "updated_at",
];
const MODES = { stream: "live (server-sent events)", polling: "live (polling)", reconnecting: "reconnecting…",
  offline: "server unreachable, retrying…", gone: "job no longer exists", final: "final" };

function stageText(job) {
  if (!job.stage && !job.stage_message) return null;
  return [job.stage, job.stage_message].filter(Boolean).join(" — ");
}

export function mountDetail(root, { id }) {
  let job = null;
  let watcher = null;
  let alive = true;
  let resultShown = false;
  let warningBadge = null;

  const bar = progressBar({ id: "job-progress", large: true, label: "Job progress" });
  const heading = h("h1", { tabindex: "-1", id: "job-title" }, `Job ${shortId(id)}`);
  const badges = h("span", { id: "job-status" });
  const doneLine = h("p", { class: "done-line", id: "job-done" });
  const mode = h("p", { class: "muted small", id: "live-mode", role: "status" });
  const stalled = h("div", { id: "job-stalled" });
  const factsSlot = h("div");
  const errorSlot = h("div", { id: "job-error" });
  const actions = h("div", { class: "actions", id: "job-actions" });
  const actionMsg = h("div", { id: "action-message" });
  const labelSlot = h("div");
  const specSlot = h("div");
  const resultSlot = h("section", { id: "result-section", "aria-labelledby": "result-title" });

  fill(
    root,
    h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")),
    h("div", { class: "page-head" }, heading, badges),
    h("section", { class: "card", "aria-label": "Progress" }, bar.el, doneLine, mode, stalled, factsSlot),
    errorSlot,
    h("section", { class: "card", "aria-label": "Actions" }, actions, actionMsg, labelSlot),
    resultSlot,
    specSlot,
  );

  function setMode(m) {
    if (!alive) return;
    mode.dataset.mode = m;
    mode.textContent = `Updates: ${MODES[m] || m}`;
  }

  function renderRecord() {
    bar.update(job);
    fill(badges, statusBadge(job), warningBadge);
    doneLine.textContent = doneText(job);
    const chunks = job.chunks_total ? `${integer(job.chunks_done)} / ${integer(job.chunks_total)}` : null;
    fill(factsSlot, facts([
      ["Done", doneText(job), "done"],
      ["Chunks", chunks, "chunks"],
      ["Rate", rate(job.rate, job.unit), "rate"],
      ["ETA", job.status === "running" ? duration(job.eta_seconds) : null, "eta"],
      ["Elapsed", duration(job.elapsed_seconds), "elapsed"],
      ["Stage", stageText(job), "stage"],
      ["Stalled", job.stalled ? "yes" : "no", "stalled"],
      ["Engine", job.engine, "engine"],
      ["Attempt", job.attempt ? String(job.attempt) : null, "attempt"],
      ["Created", time(job.created_at), "created"],
      ["Started", job.started_at ? time(job.started_at) : null, "started"],
      ["Finished", job.completed_at ? time(job.completed_at) : null, "completed"],
      ["Job id", h("code", {}, job.job_id), "id"],
    ]));
    fill(stalled, job.stalled && job.status === "running"
      ? h("div", { class: "warning", role: "status" }, "No progress for a while: the job may be stalled. It keeps running until it finishes, fails or is cancelled.")
      : null);
    fill(errorSlot, job.status === "error" ? errorBox(job.error || {}) : null);
    renderActions();
    document.title = `${job.label || `Job ${shortId(job.job_id)}`} · ${job.status} — montesim`;
  }

  function errorBox(error) {
    return h(
      "section",
      { class: "problem", role: "alert", "aria-labelledby": "error-title" },
      h("h2", { id: "error-title" }, "The job failed"),
      h("p", { class: "error-message" }, error.message || "No message was recorded."),
      error.location ? h("p", { class: "error-location" }, "Where: ", h("code", {}, error.location)) : null,
      error.code ? h("p", { class: "muted small" }, "Code: ", h("code", { class: "error-code" }, error.code)) : null,
      error.detail ? h("details", {}, h("summary", {}, "Details"), h("pre", { class: "json" },
        typeof error.detail === "string" ? error.detail : JSON.stringify(error.detail, null, 2))) : null,
    );
  }

  async function act(button, fn, after) {
    button.disabled = true;
    fill(actionMsg);
    try {
      const out = await fn();
      if (alive) after?.(out);
    } catch (err) {
      if (alive) fill(actionMsg, problemBox(err, "That did not work"));
    } finally {
      button.disabled = false;
    }
  }

  function renderActions() {
    const buttons = [];
    if (ACTIVE.has(job.status)) {
      const cancel = h("button", { type: "button", class: "danger", id: "cancel-job",
        disabled: !!job.cancellation_requested,
        // Only the flag: the status itself arrives in order through the live updates.
        onClick: () => act(cancel, () => api.cancelJob(id), () => merge({ cancellation_requested: true })) },
      job.cancellation_requested ? "Cancelling…" : "Cancel job");
      buttons.push(cancel);
    }
    if (TERMINAL.has(job.status)) {
      const del = h("button", { type: "button", class: "danger", id: "delete-job", onClick: () => {
        if (del.dataset.armed !== "yes") {
          del.dataset.armed = "yes";
          del.textContent = "Confirm delete";
          return;
        }
        act(del, () => api.deleteJob(id), () => { location.hash = "#/jobs"; });
      } }, "Delete job");
      buttons.push(del);
    }
    // Keep the same buttons while the state that shows them holds (a re-render would
    // drop a half-confirmed delete or focus).
    const key = buttons.map((b) => `${b.id}:${b.textContent}`).join("|");
    if (actions.dataset.key !== key) {
      actions.dataset.key = key;
      fill(actions, buttons);
    }
  }

  function renderLabel() {
    const input = h("input", { id: "label-input", type: "text", maxlength: "200", value: job.label || "",
      placeholder: "A name for this job" });
    const form = h("form", { class: "inline-form", onSubmit: (e) => {
      e.preventDefault();
      act(save, () => api.setLabel(id, input.value.trim() || null), (view) => {
        job.label = view.label;
        renderRecord();
        heading.textContent = view.label || `Job ${shortId(id)}`;
        fill(actionMsg, h("p", { class: "ok", role: "status" }, "Label saved."));
      });
    } }, h("label", { for: "label-input" }, "Label"), input);
    const save = h("button", { type: "submit" }, "Save label");
    form.append(save);
    fill(labelSlot, form);
  }

  function renderSpec() {
    if (!job.spec) return;
    fill(specSlot, h("details", { class: "card" }, h("summary", {}, "Spec"),
      h("pre", { class: "json", id: "job-spec" }, JSON.stringify(job.spec, null, 2))));
  }

  async function showResult() {
    if (resultShown) return;
    resultShown = true;
    fill(resultSlot, h("h2", { id: "result-title" }, "Result"), h("p", { class: "muted" }, "Loading result…"));
    try {
      const body = await api.result(id);
      if (!alive) return;
      fill(resultSlot, h("h2", { id: "result-title" }, "Result"), renderResult(body));
      // Warnings show beside the status too, so a "complete" job never looks clean by mistake.
      const warnings = Array.isArray(body.result?.warnings) ? body.result.warnings : [];
      if (warnings.length) {
        const severe = warnings.some((w) => w.code === "output_all_errors");
        warningBadge = h("a", { href: "#job-warnings", id: "warning-badge", class: `badge ${severe ? "badge-error" : "badge-warn"}`,
          onClick: (e) => { e.preventDefault(); document.getElementById("job-warnings")?.scrollIntoView(); } },
        `${warnings.length} warning${warnings.length > 1 ? "s" : ""}`);
        badges.append(warningBadge);
      }
    } catch (err) {
      resultShown = false;
      if (alive) fill(resultSlot, h("h2", { id: "result-title" }, "Result"), problemBox(err, "Could not load the result"));
    }
  }

  // A record from the server (full view or event) replaces the progress fields.
  function merge(rec) {
    // Terminal states are final: a late event from before the end must not undo one.
    if (TERMINAL.has(job.status) && !TERMINAL.has(rec.status)) return;
    for (const key of RECORD_FIELDS) if (key in rec) job[key] = rec[key];
    if ("label" in rec) job.label = rec.label;
    if (rec.status === "error" || rec.error) job.error = { ...(job.error || {}), ...(rec.error || {}) };
    renderRecord();
  }

  async function onTerminal() {
    setMode("final");
    // The full view has what events don't carry (finish time, error detail).
    try {
      const full = await api.getJob(id);
      if (!alive) return;
      job = full;
      renderRecord();
    } catch {
      /* keep the last record shown */
    }
    if (job.status === "complete") showResult();
  }

  async function start() {
    try {
      job = await api.getJob(id);
    } catch (err) {
      if (alive) fill(root, h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")), problemBox(err, "Could not load this job"));
      return;
    }
    if (!alive) return;
    heading.textContent = job.label || `Job ${shortId(id)}`;
    renderRecord();
    renderLabel();
    renderSpec();
    if (TERMINAL.has(job.status)) {
      onTerminal();
      return;
    }
    watcher = watchJob(id, {
      onRecord: (ev) => {
        merge(ev);
        if (TERMINAL.has(ev.status)) onTerminal();
      },
      onMode: setMode,
    });
  }

  start();
  return {
    title: `Job ${shortId(id)}`,
    destroy() {
      alive = false;
      watcher?.close();
    },
  };
}
