// The input editor: a distribution family with @RISK's parameter names, checked by the
// server as you type, and a small density plot with the mean and the 5th/95th percentiles.

import { fill, h, s } from "../dom.js";
import { compact, number } from "../format.js";
import { studioApi } from "./api.js";

// How @RISK labels the parameters of each family.
const LABELS = {
  mean: "Mean", sd: "Std. deviation", mu: "μ (log mean)", sigma: "σ (log std. dev.)",
  min: "Minimum", max: "Maximum", mode: "Most likely", alpha: "α (shape)", beta: "β",
  lambda: "λ (mean)", n: "Trials (n)", p: "Probability (p)", values: "Values",
  probs: "Probabilities", xs: "Values (x)", ps: "Cumulative probabilities",
  bottom: "Bottom", top: "Top", bottom_pct: "Bottom percentile", top_pct: "Top percentile",
};

const W = 340;
const H = 150;
const PAD = { l: 8, r: 8, t: 18, b: 22 };

/** A density (or probability mass) chart with mean and P5/P95 marked. */
export function densityPlot(p) {
  const xs = p.points.x;
  const ys = p.points.y;
  const lo = Math.min(...xs, p.p5 ?? Infinity);
  const hi = Math.max(...xs, p.p95 ?? -Infinity);
  const span = hi > lo ? hi - lo : Math.abs(lo) || 1;
  const x0 = hi > lo ? lo : lo - span / 2;
  const top = Math.max(...ys) || 1;
  const X = (x) => PAD.l + ((x - x0) / (hi > lo ? span : span)) * (W - PAD.l - PAD.r);
  const Y = (y) => H - PAD.b - (y / top) * (H - PAD.t - PAD.b);
  const parts = [];
  if (p.discrete) {
    const bw = Math.max(2, Math.min(18, (W - PAD.l - PAD.r) / (xs.length * 1.6)));
    xs.forEach((x, i) => parts.push(s("rect", {
      class: "density-bar", x: X(x) - bw / 2, y: Y(ys[i]), width: bw, height: H - PAD.b - Y(ys[i]),
    })));
  } else {
    const line = xs.map((x, i) => `${i ? "L" : "M"}${X(x).toFixed(1)},${Y(ys[i]).toFixed(1)}`).join("");
    parts.push(s("path", {
      class: "density-area",
      d: `${line}L${X(xs[xs.length - 1]).toFixed(1)},${H - PAD.b}L${X(xs[0]).toFixed(1)},${H - PAD.b}Z`,
    }));
    parts.push(s("path", { class: "density-line", d: line }));
  }
  const marker = (x, cls, label) => x === null || x === undefined ? null : s("g", { class: cls },
    s("line", { x1: X(x), x2: X(x), y1: PAD.t - 4, y2: H - PAD.b }),
    s("text", { x: X(x), y: PAD.t - 7, "text-anchor": "middle" }, label));
  return s("svg", {
    class: "density", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Distribution: mean ${number(p.mean, 4)}, 5th percentile ${number(p.p5, 4)}, 95th percentile ${number(p.p95, 4)}`,
  },
  s("line", { class: "axis", x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b }),
  ...parts,
  marker(p.p5, "pct", "P5"), marker(p.p95, "pct", "P95"), marker(p.mean, "mean", "mean"),
  s("text", { class: "tick", x: PAD.l, y: H - 6 }, compact(lo)),
  s("text", { class: "tick", x: W - PAD.r, y: H - 6, "text-anchor": "end" }, compact(hi)));
}

function paramText(value) {
  return Array.isArray(value) ? value.join(", ") : value === undefined || value === null ? "" : String(value);
}

function parseParam(text, vector) {
  const t = text.trim();
  if (vector) {
    if (!t) return [];
    return t.replace(/^\{|\}$/g, "").split(/[,;\s]+/).filter(Boolean).map(Number);
  }
  return t === "" ? NaN : Number(t);
}

/** A sensible first guess for a constant cell: Normal around its value. */
export function guessInput(value) {
  const v = typeof value === "number" && Number.isFinite(value) ? value : 0;
  const sd = v === 0 ? 1 : Math.abs(v) * 0.1;
  return { family: "normal", params: [v, Number(sd.toPrecision(3))], name: "" };
}

/**
 * Open the editor for `cell`. onSave(input) with {family, params, truncate, name};
 * onRemove() when the user removes an existing input.
 */
export function openInputEditor({ cell, current, initial, families, existing, onSave, onRemove, title }) {
  const dialog = h("dialog", { class: "input-editor", "aria-labelledby": "input-editor-title" });
  const state = { family: initial.family, params: [...(initial.params || [])], truncate: initial.truncate || null };
  const nameField = h("input", { type: "text", id: "input-name", maxlength: "100", value: initial.name || "", placeholder: cell });
  const familySelect = h("select", { id: "input-family" },
    families.map((f) => h("option", { value: f.family }, `${f.risk_name} (${f.params.join(", ")})`)));
  familySelect.value = state.family;
  const paramsBox = h("div", { class: "param-fields" });
  const truncLo = h("input", { type: "text", inputmode: "decimal", id: "input-trunc-min", class: "short",
    value: state.truncate?.[0] ?? "", placeholder: "none" });
  const truncHi = h("input", { type: "text", inputmode: "decimal", id: "input-trunc-max", class: "short",
    value: state.truncate?.[1] ?? "", placeholder: "none" });
  const message = h("p", { class: "input-message", id: "input-message", "aria-live": "polite" });
  const plot = h("div", { class: "density-box", id: "input-density" });
  const statsLine = h("p", { class: "density-stats", id: "input-stats" });
  const save = h("button", { type: "submit", class: "primary", id: "input-save" }, "Save input");
  let valid = false;
  let seq = 0;
  let timer = 0;

  function family() {
    return families.find((f) => f.family === state.family) || families[0];
  }

  function renderParams() {
    const fam = family();
    fill(paramsBox, fam.params.map((name, i) => {
      const vector = fam.vectors.includes(name);
      const input = h("input", {
        type: "text", inputmode: vector ? "text" : "decimal", id: `param-${name}`, dataset: { param: name },
        value: paramText(state.params[i]), autocomplete: "off",
        placeholder: vector ? "e.g. 1, 2, 3" : "",
        onInput: () => { state.params[i] = parseParam(input.value, vector); schedule(); },
      });
      return h("div", { class: "param" }, h("label", { for: `param-${name}` }, LABELS[name] || name,
        vector ? h("span", { class: "muted small" }, " (list)") : null), input);
    }));
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(validate, 180);
  }

  async function validate() {
    const fam = family();
    const mine = ++seq;
    const lo = truncLo.value.trim() === "" ? null : Number(truncLo.value);
    const hi = truncHi.value.trim() === "" ? null : Number(truncHi.value);
    state.truncate = lo === null && hi === null ? null : [lo, hi];
    const params = fam.params.map((_, i) => state.params[i]);
    paramsBox.querySelectorAll("input").forEach((el) => el.removeAttribute("aria-invalid"));
    const blank = fam.params.find((name, i) => typeof params[i] === "number" && Number.isNaN(params[i]));
    if (blank) {
      valid = false;
      message.className = "input-message error";
      message.textContent = `Enter the ${(LABELS[blank] || blank).toLowerCase()}.`;
      document.getElementById(`param-${blank}`)?.setAttribute("aria-invalid", "true");
      save.disabled = true;
      return;
    }
    try {
      const body = { family: fam.family, params };
      if (state.truncate) body.truncate = state.truncate;
      const p = await studioApi.preview(body);
      if (mine !== seq) return;
      valid = true;
      save.disabled = false;
      message.className = "input-message ok";
      message.textContent = "Valid distribution.";
      fill(plot, densityPlot(p));
      fill(statsLine,
        h("span", {}, "Mean ", h("strong", { id: "input-mean" }, number(p.mean, 5))),
        h("span", {}, "P5 ", h("strong", { id: "input-p5" }, number(p.p5, 5))),
        h("span", {}, "P95 ", h("strong", { id: "input-p95" }, number(p.p95, 5))));
    } catch (err) {
      if (mine !== seq) return;
      valid = false;
      save.disabled = true;
      message.className = "input-message error";
      message.textContent = (err.problem?.detail || err.message).replace(/^input: /, "");
      const param = err.problem?.errors?.parameter;
      const target = param === "truncate" ? truncLo : document.getElementById(`param-${String(param).split("[")[0]}`);
      target?.setAttribute("aria-invalid", "true");
      fill(plot, h("p", { class: "muted small" }, "The plot appears when the parameters are valid."));
      fill(statsLine);
    }
  }

  familySelect.addEventListener("change", () => {
    const fam = family();
    state.family = familySelect.value;
    const next = family();
    // Keep the numbers that carry over by name (min/max, mean...), else start blank.
    state.params = next.params.map((name) => {
      const i = fam.params.indexOf(name);
      return i >= 0 ? state.params[i] : next.vectors.includes(name) ? [] : NaN;
    });
    renderParams();
    schedule();
  });
  truncLo.addEventListener("input", schedule);
  truncHi.addEventListener("input", schedule);

  const form = h("form", { method: "dialog", onSubmit: (e) => {
    e.preventDefault();
    if (!valid) return;
    onSave({ family: state.family, params: family().params.map((_, i) => state.params[i]),
      truncate: state.truncate, name: nameField.value.trim() });
    dialog.close();
  } },
  h("div", { class: "dialog-head" },
    h("h2", { id: "input-editor-title" }, title || `Input ${cell}`),
    h("button", { type: "button", class: "icon", "aria-label": "Close", onClick: () => dialog.close() }, "×")),
  current ? h("p", { class: "muted small current-value" }, "In the workbook: ", h("span", { class: "mono" }, current)) : null,
  h("div", { class: "editor-grid" },
    h("div", {},
      h("div", { class: "field" }, h("label", { for: "input-name" }, "Name"), nameField),
      h("div", { class: "field" }, h("label", { for: "input-family" }, "Distribution"), familySelect),
      paramsBox,
      h("details", { class: "truncate", open: state.truncate ? true : null }, h("summary", {}, "Truncate (optional)"),
        h("div", { class: "param-pair" },
          h("div", { class: "param" }, h("label", { for: "input-trunc-min" }, "Lower bound"), truncLo),
          h("div", { class: "param" }, h("label", { for: "input-trunc-max" }, "Upper bound"), truncHi))),
      message),
    h("div", { class: "density-wrap" }, plot, statsLine)),
  h("div", { class: "actions" }, save,
    existing ? h("button", { type: "button", class: "danger", id: "input-remove", onClick: () => { onRemove(); dialog.close(); } },
      "Remove input") : null,
    h("button", { type: "button", onClick: () => dialog.close() }, "Cancel")));
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  renderParams();
  dialog.showModal();
  (paramsBox.querySelector("input") || familySelect).focus();
  validate();
  return dialog;
}
