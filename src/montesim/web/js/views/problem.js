// Showing an API problem (RFC 9457): the sentence, where, and the stable code.

import { h } from "../dom.js";

export function problemBox(err, heading = "Request failed") {
  const p = err.problem || { detail: err.message };
  const extra = Array.isArray(p.errors)
    ? p.errors.filter((e) => e && typeof e === "object" && e.message && e.location !== p.location)
    : [];
  return h(
    "div",
    { class: "problem", role: "alert", dataset: { code: p.code || "", location: p.location || "" } },
    h("strong", {}, heading),
    h("p", { class: "problem-detail" }, p.detail || p.title || String(err.message)),
    p.location ? h("p", {}, "Where: ", h("code", { class: "problem-location" }, p.location)) : null,
    extra.length ? h("ul", {}, extra.map((e) => h("li", {}, h("code", {}, e.location || "?"), `: ${e.message}`))) : null,
    p.code ? h("p", { class: "muted small" }, "Code: ", h("code", { class: "problem-code" }, p.code),
      err.status ? ` (HTTP ${err.status})` : "") : null,
  );
}
