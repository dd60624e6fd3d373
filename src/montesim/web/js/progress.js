// The progress bar. It only ever shows persisted work reported by the server:
// before the first chunk lands it says "waiting" (indeterminate), a failed job says
// "error", and 100% appears only once the job is complete.

import { h } from "./dom.js";
import { integer } from "./format.js";

/** What the bar shows for a progress record: {state, fraction (null: none), label}. */
export function barState(rec) {
  const done = rec.done || 0;
  const total = rec.total || 0;
  const measured = total > 0 ? Math.min(1, done / total) : null;
  switch (rec.status) {
    case "complete":
      return { state: "complete", fraction: 1, label: "complete" };
    case "error":
      return { state: "error", fraction: done > 0 ? measured : null, label: "error" };
    case "cancelled":
      return { state: "cancelled", fraction: done > 0 ? measured : null, label: "cancelled" };
    default:
      if (done <= 0 || measured === null) return { state: "waiting", fraction: null, label: "waiting" };
      return {
        state: rec.status === "queued" ? "queued" : "running",
        fraction: measured,
        // All units stored but the result not yet merged and saved: not "complete" yet.
        // Otherwise floor, so an unfinished job never rounds up to 100%.
        label: done >= total ? "finishing" : `${Math.min(99, Math.floor(measured * 100))}%`,
      };
  }
}

export function doneText(rec) {
  const unit = rec.unit || "units";
  if (!rec.total) return `${integer(rec.done || 0)} ${unit}`;
  return `${integer(rec.done || 0)} / ${integer(rec.total)} ${unit}`;
}

/** A bar that updates in place: const bar = progressBar(); bar.update(record). */
export function progressBar({ id, large = false, label = "Progress" } = {}) {
  const fillEl = h("div", { class: "pbar-fill" });
  const track = h(
    "div",
    { class: "pbar-track", role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100" },
    fillEl,
  );
  const text = h("span", { class: "pbar-label", "aria-hidden": "true" });
  const el = h("div", { class: large ? "pbar pbar-large" : "pbar", id }, track, text);

  function update(rec) {
    const view = barState(rec);
    el.dataset.state = view.state;
    el.dataset.done = String(rec.done || 0);
    el.dataset.total = String(rec.total || 0);
    text.textContent = view.label;
    const spoken = `${view.label}, ${doneText(rec)}`;
    track.setAttribute("aria-valuetext", spoken);
    if (view.fraction === null) {
      track.removeAttribute("aria-valuenow");
      fillEl.style.width = "";
      el.classList.add("pbar-indeterminate");
    } else {
      const pct = view.state === "complete" ? 100 : Math.floor(view.fraction * 100);
      track.setAttribute("aria-valuenow", String(pct));
      fillEl.style.width = `${(view.fraction * 100).toFixed(2)}%`;
      el.classList.remove("pbar-indeterminate");
    }
    // Only the waiting state animates; a stalled job's stripes would suggest activity.
    el.classList.toggle("pbar-animated", view.state === "waiting" && rec.status === "running" && !rec.stalled);
  }

  return { el, update };
}

/** A status badge: the stored status, plus "cancelling" and "stalled" hints. */
export function statusBadge(rec) {
  const badge = h("span", { class: `badge badge-${rec.status}`, dataset: { status: rec.status } }, rec.status);
  const extra = [];
  if (rec.cancellation_requested && !["complete", "error", "cancelled"].includes(rec.status)) {
    extra.push(h("span", { class: "badge badge-note" }, "cancelling"));
  }
  if (rec.stalled && rec.status === "running") extra.push(h("span", { class: "badge badge-warn" }, "stalled"));
  return h("span", { class: "badges" }, badge, extra);
}
