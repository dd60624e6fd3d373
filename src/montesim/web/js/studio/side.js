// The studio's side panel: the selected cell and what it can become, the lists of inputs,
// outputs and fixed cells, correlation, run settings, the pre-run check and model setups.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { integer, number } from "../format.js";
import { problemBox } from "../views/problem.js";
import { studioApi } from "./api.js";
import { parseRef } from "./refs.js";
import { distributionText } from "./state.js";

function cellLink(ref, go) {
  return h("button", { type: "button", class: "link mono", onClick: () => go(ref), title: `Go to ${ref}` }, ref);
}

function section(id, heading, ...children) {
  return h("section", { class: "side-card", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, heading), ...children);
}

export function createSide(root, ctx) {
  const { fileId, go } = ctx;
  const cellCard = h("div", { id: "cell-card-body" });
  const inputsBox = h("div", { id: "inputs-list" });
  const outputsBox = h("div", { id: "outputs-list" });
  const fixedBox = h("div", { id: "fixed-list" });
  const corrBox = h("div", { id: "correlation-body" });
  const checkBox = h("div", { id: "check-results", "aria-live": "polite" });
  const specPre = h("pre", { class: "json", id: "spec-json" });
  const setupsSelect = h("select", { id: "setup-select", "aria-label": "Saved model setups" });
  const setupName = h("input", { type: "text", id: "setup-name", maxlength: "200", placeholder: "e.g. Base case" });
  const setupMsg = h("p", { class: "small", id: "setup-message", "aria-live": "polite" });
  const notice = h("p", { class: "notice small", id: "studio-notice" });

  // -- run settings (bound to the definition) -------------------------------------------------
  const settingField = (key, { tag = "input", options = [], ...attrs }) => {
    const el = h(tag, { ...attrs, id: `run-${key}` }, options);
    el.addEventListener("change", () => {
      const d = ctx.def();
      d.settings[key] = attrs.type === "number" ? Number(el.value) : el.value;
      ctx.persist();
      showSpec();
    });
    return el;
  };
  const iterations = settingField("iterations", { type: "number", min: "1", max: "10000000", step: "1000", inputmode: "numeric" });
  const seed = settingField("seed", { type: "number", min: "0", step: "1", inputmode: "numeric" });
  const sampling = settingField("sampling", { tag: "select", options: [
    h("option", { value: "lhs" }, "Latin hypercube"), h("option", { value: "mc" }, "Monte Carlo")] });
  const label = settingField("label", { type: "text", maxlength: "200", placeholder: "e.g. Q3 forecast" });
  const checkBtn = h("button", { type: "button", id: "check-model", onClick: () => runCheck() }, "Check model");
  const runBtn = h("button", { type: "button", class: "primary", id: "run-model", onClick: () => run() }, "Run simulation");
  const specToggle = h("details", { class: "spec-toggle", id: "spec-toggle", onToggle: showSpec },
    h("summary", {}, "Show spec (JSON)"), specPre,
    h("p", { class: "muted small" }, "What Run submits to POST /api/jobs (engine excel)."));

  fill(root,
    notice,
    section("cell-card", "Selected cell", cellCard),
    section("inputs", "Inputs", inputsBox),
    section("outputs", "Outputs", outputsBox),
    section("fixed", "Fixed values", fixedBox),
    h("details", { class: "side-card", id: "correlation" }, h("summary", {}, "Correlation"), corrBox),
    section("run", "Run",
      h("div", { class: "run-grid" },
        h("label", { for: "run-iterations" }, "Iterations"), iterations,
        h("label", { for: "run-seed" }, "Seed"), seed,
        h("label", { for: "run-sampling" }, "Sampling"), sampling,
        h("label", { for: "run-label" }, "Label"), label),
      h("div", { class: "actions" }, runBtn, checkBtn),
      checkBox,
      specToggle),
    section("setups", "Model setups",
      h("div", { class: "inline-form" }, h("label", { for: "setup-name" }, "Name"), setupName,
        h("button", { type: "button", id: "save-setup", onClick: () => saveSetup() }, "Save setup")),
      h("div", { class: "inline-form" }, setupsSelect,
        h("button", { type: "button", id: "load-setup", onClick: () => loadSetup() }, "Load")),
      setupMsg));

  let setups = [];

  // -- the selected cell ----------------------------------------------------------------------------
  function renderCell() {
    const sel = ctx.selection();
    if (!sel) { fill(cellCard, h("p", { class: "muted" }, "Click a cell.")); return; }
    const ref = ctx.refOf(sel.sheet, sel.r, sel.c);
    const d = ctx.def();
    const cell = sel.cell;
    const risk = ctx.wbInput(ref);
    const rand = ctx.randomCell(ref);
    const input = d.inputs[ref];
    const fixed = ref in d.fixed;
    const out = ctx.isOutput(ref);
    let what = cell ? (cell.f ? "Formula" : "Constant") : "Empty cell";
    if (input) what = `Input: ${distributionText(input, ctx.families())}`;
    else if (fixed) what = `Fixed at ${d.fixed[ref]}`;
    else if (risk) what = `@RISK input (${risk.name || risk.function})`;
    else if (rand) what = `Random function ${rand.functions.join(", ")}: define it as an input or fix it`;
    else if (cell?.m === "unsupported") what = "Uses a function montesim does not support";
    const fixValue = cell && cell.t === "n" ? cell.x : cell && cell.t === "s" ? cell.v : null;
    fill(cellCard,
      h("p", { class: "cell-title" }, h("strong", { class: "mono", id: "selected-ref" }, ref),
        cell ? h("span", { class: "cell-value" }, ` = ${cell.v}`) : null),
      h("p", { class: "muted small", id: "selected-kind" }, what, out ? " · output" : ""),
      h("div", { class: "actions wrap" },
        h("button", { type: "button", id: "define-input", class: "primary", onClick: () => ctx.editInput() },
          input ? "Edit input…" : risk ? "Override distribution…" : "Define input…"),
        h("button", { type: "button", id: "toggle-output", onClick: () => ctx.toggleOutput(ref, ctx.labelFor(sel)) },
          out ? "Remove output" : "Make output"),
        fixed
          ? h("button", { type: "button", id: "unfix", onClick: () => { delete d.fixed[ref]; ctx.changed(); } }, "Unfix")
          : h("button", { type: "button", id: "fix-cell", disabled: fixValue === null || fixValue === undefined,
            title: "Replace the cell by its current value in every iteration",
            onClick: () => ctx.fixCell(ref, fixValue) }, "Fix at value")),
      h("p", { class: "muted small hint" }, "Keyboard: arrows move, Enter defines an input."));
  }

  // -- lists ----------------------------------------------------------------------------------------
  function renderInputs() {
    const d = ctx.def();
    const fams = ctx.families();
    const rows = [];
    for (const item of ctx.book().inputs) {
      const ref = item.cell.replace(/#\d+$/, "");
      if (d.inputs[ref] || ref in d.fixed) continue;
      rows.push(h("li", { class: "item", dataset: { cell: ref, source: "workbook" } },
        h("div", { class: "item-main" }, h("strong", {}, item.name || ref), " ", cellLink(ref, go),
          h("div", { class: "muted small mono formula-text" }, item.formula.replace(/^=/, ""))),
        h("div", { class: "item-actions" },
          h("span", { class: "tag" }, "workbook"),
          h("button", { type: "button", class: "small-btn", onClick: () => ctx.editInput(ref) }, "Override"),
          h("button", { type: "button", class: "small-btn", title: "Use its mean in every iteration",
            onClick: () => fixAtShownValue(ref) }, "Fix"))));
    }
    for (const [ref, input] of Object.entries(d.inputs)) {
      rows.push(h("li", { class: "item", dataset: { cell: ref, source: "studio" } },
        h("div", { class: "item-main" }, h("strong", {}, input.name || ref), " ", cellLink(ref, go),
          h("div", { class: "muted small mono" }, distributionText(input, fams))),
        h("div", { class: "item-actions" },
          ctx.wbInput(ref) ? h("span", { class: "tag" }, "override") : input.origin === "random" ? h("span", { class: "tag" }, "RAND") : null,
          h("button", { type: "button", class: "small-btn", onClick: () => ctx.editInput(ref) }, "Edit"),
          h("button", { type: "button", class: "small-btn", "aria-label": `Remove input ${input.name || ref}`,
            onClick: () => { delete d.inputs[ref]; ctx.changed(); } }, "Remove"))));
    }
    for (const r of ctx.book().random) {
      if (d.inputs[r.cell] || r.cell in d.fixed) continue;
      rows.push(h("li", { class: "item warn", dataset: { cell: r.cell, source: "random" } },
        h("div", { class: "item-main" }, h("strong", {}, "Needs a distribution"), " ", cellLink(r.cell, go),
          h("div", { class: "muted small mono" }, r.formula.replace(/^=/, ""))),
        h("div", { class: "item-actions" },
          h("button", { type: "button", class: "small-btn", onClick: () => ctx.editInput(r.cell) }, "Define"),
          h("button", { type: "button", class: "small-btn", title: "Use the value the workbook shows in every iteration",
            onClick: () => fixAtShownValue(r.cell) }, "Fix"))));
    }
    fill(inputsBox, rows.length ? h("ul", { class: "items" }, rows)
      : h("p", { class: "muted small" }, "No inputs yet: click a cell with a number and press Enter."));
  }

  function fixAtShownValue(ref) {
    // The value the grid shows: Excel's saved value, or the one montesim computed
    // (a workbook input's mean).
    const p = parseRef(ref);
    studioApi.cells(fileId, p.sheet, p.address).then((page) => {
      const cell = page.cells[0];
      if (cell && cell.t === "n" && !cell.uncomputed) ctx.fixCell(ref, cell.x);
      else if (cell && cell.t === "s" && !cell.uncomputed) ctx.fixCell(ref, cell.v);
      else {
        ctx.ui.notice = `${ref} shows no value to fix it at: define it as an input instead.`;
        ctx.changed();
      }
    }, (err) => { ctx.ui.notice = err.problem?.detail || err.message; ctx.changed(); });
  }

  function renderOutputs() {
    const d = ctx.def();
    fill(outputsBox, d.outputs.length ? h("ul", { class: "items" }, d.outputs.map((o, i) => {
      const nameField = h("input", { type: "text", class: "inline-name", value: o.name, maxlength: "100",
        "aria-label": `Name of output ${o.cell}`, id: `output-name-${i}` });
      nameField.addEventListener("change", () => { o.name = nameField.value.trim() || o.cell; ctx.persist(); showSpec(); });
      return h("li", { class: "item", dataset: { cell: o.cell } },
        h("div", { class: "item-main" }, nameField, " ", cellLink(o.cell, go)),
        h("div", { class: "item-actions" }, h("button", { type: "button", class: "small-btn",
          "aria-label": `Remove output ${o.name}`, onClick: () => ctx.toggleOutput(o.cell) }, "Remove")));
    })) : h("p", { class: "muted small" }, "No outputs: click a result cell and press “Make output”."));
  }

  function renderFixed() {
    const d = ctx.def();
    const entries = Object.entries(d.fixed);
    fill(fixedBox, entries.length ? h("ul", { class: "items" }, entries.map(([ref, value], i) => {
      const field = h("input", { type: "text", class: "inline-value mono", value: String(value ?? ""),
        "aria-label": `Fixed value of ${ref}`, id: `fixed-value-${i}` });
      field.addEventListener("change", () => {
        const t = field.value.trim();
        d.fixed[ref] = t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
        ctx.changed();
      });
      return h("li", { class: "item", dataset: { cell: ref } },
        h("div", { class: "item-main" }, cellLink(ref, go), " = ", field),
        h("div", { class: "item-actions" }, h("button", { type: "button", class: "small-btn",
          onClick: () => { delete d.fixed[ref]; ctx.changed(); } }, ctx.wbInput(ref) ? "Restore input" : "Remove")));
    })) : h("p", { class: "muted small" }, "What-if values: select a cell and “Fix at value”, then edit it here."));
  }

  // -- correlation ----------------------------------------------------------------------------------
  function allInputs() {
    const d = ctx.def();
    const out = [];
    for (const item of ctx.book().inputs) {
      const ref = item.cell.replace(/#\d+$/, "");
      if (!d.inputs[ref] && !(ref in d.fixed)) out.push({ cell: ref, name: item.name || ref });
    }
    for (const [ref, input] of Object.entries(d.inputs)) out.push({ cell: ref, name: input.name || ref });
    return out;
  }

  let corrSeq = 0;
  let corrVerdict = { key: null };
  const corrMessage = h("p", { class: "small", id: "correlation-message", "aria-live": "polite" });
  function renderCorrelation() {
    const d = ctx.def();
    const inputs = allInputs();
    const chosen = d.correlation ? d.correlation.inputs.filter((c) => inputs.some((i) => i.cell === c)) : [];
    const msg = corrMessage;
    if (!d.correlation || d.correlation.inputs.length < 2) msg.textContent = "";
    const boxes = h("fieldset", { class: "corr-pick" }, h("legend", {}, "Correlate these inputs (rank correlation)"),
      inputs.map((inp, i) => {
        const box = h("input", { type: "checkbox", id: `corr-${i}`, checked: chosen.includes(inp.cell) });
        box.addEventListener("change", () => {
          const next = inputs.filter((x, j) => (j === i ? box.checked : chosen.includes(x.cell))).map((x) => x.cell);
          const old = d.correlation;
          const at = (a, b) => {
            if (a === b) return 1;
            if (!old) return 0;
            const p = old.inputs.indexOf(a);
            const q = old.inputs.indexOf(b);
            return p >= 0 && q >= 0 ? old.matrix[p][q] : 0;
          };
          d.correlation = next.length ? { inputs: next, matrix: next.map((a) => next.map((b) => at(a, b))) } : null;
          ctx.persist();
          renderCorrelation();
          showSpec();
        });
        return h("label", { class: "check", for: `corr-${i}` }, box, ` ${inp.name}`);
      }));
    let table = null;
    if (d.correlation && d.correlation.inputs.length >= 2) {
      const names = d.correlation.inputs.map((c) => inputs.find((i) => i.cell === c)?.name || c);
      table = h("div", { class: "table-scroll" }, h("table", { class: "corr-matrix", id: "corr-matrix" },
        h("thead", {}, h("tr", {}, h("th", {}), names.map((n) => h("th", { scope: "col" }, n)))),
        h("tbody", {}, d.correlation.inputs.map((_, i) => h("tr", {}, h("th", { scope: "row" }, names[i]),
          d.correlation.inputs.map((__, j) => {
            if (i === j) return h("td", { class: "num muted" }, "1");
            if (j < i) return h("td", { class: "num muted" }, number(d.correlation.matrix[i][j], 3));
            const field = h("input", { type: "number", min: "-1", max: "1", step: "0.05", class: "corr-cell",
              value: String(d.correlation.matrix[i][j]), "aria-label": `Correlation of ${names[i]} and ${names[j]}` });
            field.addEventListener("change", () => {
              const v = Number(field.value);
              d.correlation.matrix[i][j] = v;
              d.correlation.matrix[j][i] = v;
              ctx.persist();
              renderCorrelation();
              showSpec();
            });
            return h("td", {}, field);
          }))))));
      const body = { inputs: names, matrix: d.correlation.matrix };
      const key = JSON.stringify(body);
      const show = (cls, text) => {
        corrVerdict = { key, cls, text };
        msg.className = cls;
        msg.textContent = text;
      };
      if (corrVerdict.key === key) show(corrVerdict.cls, corrVerdict.text);
      else {
        const mine = ++corrSeq;
        studioApi.checkCorrelation(body).then(() => {
          if (mine === corrSeq) show("small ok", "The matrix is a valid correlation matrix.");
        }, (err) => {
          if (mine === corrSeq) show("small error-text", err.problem?.detail || err.message);
        });
      }
    }
    fill(corrBox, inputs.length >= 2 ? [boxes, table, msg] : h("p", { class: "muted small" }, "Define two or more inputs to correlate them."));
  }

  // -- spec, check, run ------------------------------------------------------------------------------
  function showSpec() {
    if (specToggle.open) specPre.textContent = JSON.stringify(ctx.spec(), null, 2);
  }

  function renderCheck(result) {
    const items = result.items;
    const errors = items.filter((i) => i.severity === "error").length;
    const warnings = items.length - errors;
    fill(checkBox, h("div", { class: `check-result ${result.ok ? "passed" : "failed"}`, id: "check-summary", dataset: { ok: String(result.ok) } },
      h("p", { class: "check-head" }, result.ok
        ? `Ready to run: ${result.inputs.length} inputs, ${result.outputs.length} outputs${warnings ? `, ${warnings} warning${warnings > 1 ? "s" : ""}` : ""}.`
        : `${errors} problem${errors > 1 ? "s" : ""} to fix before running${warnings ? ` (and ${warnings} warning${warnings > 1 ? "s" : ""})` : ""}.`),
      items.length ? h("ul", { class: "check-items" }, items.map((i) => h("li", { class: `check-item ${i.severity}`, dataset: { code: i.code } },
        h("span", { class: "sev" }, i.severity === "error" ? "Error" : "Warning"), " ", i.message,
        i.cells.length ? h("span", { class: "check-cells" }, " ", i.cells.slice(0, 8).map((c) => cellLink(c, go)),
          i.cells.length > 8 ? h("span", { class: "muted" }, `and ${i.cells.length - 8} more`) : null) : null))) : null));
  }

  async function runCheck() {
    if (!ctx.def().outputs.length) {
      // An empty list in the spec would mean "the workbook's RiskOutput cells": say so instead.
      renderCheck({ ok: false, inputs: [], outputs: [], items: [{ severity: "error", code: "no_outputs", cells: [],
        message: "No outputs: select a result cell and press “Make output”." }] });
      return null;
    }
    checkBtn.disabled = true;
    fill(checkBox, h("p", { class: "muted small" }, "Checking the model…"));
    try {
      const result = await studioApi.check(fileId, ctx.spec());
      renderCheck(result);
      return result;
    } catch (err) {
      fill(checkBox, problemBox(err, "The check failed"));
      return null;
    } finally {
      checkBtn.disabled = false;
    }
  }

  async function run() {
    runBtn.disabled = true;
    runBtn.textContent = "Checking…";
    try {
      const result = await runCheck();
      if (!result || !result.ok) {
        checkBox.querySelector(".check-result")?.focus?.();
        return;
      }
      runBtn.textContent = "Submitting…";
      const d = ctx.def();
      const body = { engine: "excel", spec: ctx.spec(), label: d.settings.label || `${ctx.book().filename} · ${integer(d.settings.iterations)} iterations` };
      const created = await api.createJob(body);
      location.hash = `#/jobs/${created.job_id}`;
    } catch (err) {
      fill(checkBox, problemBox(err, "The server did not accept this job"));
    } finally {
      runBtn.disabled = false;
      runBtn.textContent = "Run simulation";
    }
  }

  // -- setups ----------------------------------------------------------------------------------------
  function renderSetups() {
    fill(setupsSelect, setups.length
      ? setups.map((s) => h("option", { value: s.setup_id }, `${s.name} (${new Date(s.updated_at).toLocaleString()})`))
      : h("option", { value: "" }, "No saved setups"));
    setupsSelect.disabled = !setups.length;
  }

  async function refreshSetups() {
    try {
      setups = (await studioApi.setups(fileId)).items;
    } catch {
      setups = [];
    }
    renderSetups();
  }

  async function saveSetup() {
    const name = setupName.value.trim();
    if (!name) {
      setupName.setAttribute("aria-invalid", "true");
      setupMsg.className = "small error-text";
      setupMsg.textContent = "Give the setup a name.";
      setupName.focus();
      return;
    }
    setupName.removeAttribute("aria-invalid");
    try {
      const saved = await studioApi.saveSetup(fileId, name, ctx.def());
      setupMsg.className = "small ok";
      setupMsg.textContent = `Saved “${saved.name}”.`;
      await refreshSetups();
    } catch (err) {
      setupMsg.className = "small error-text";
      setupMsg.textContent = err.problem?.detail || err.message;
    }
  }

  function loadSetup() {
    const s = setups.find((x) => x.setup_id === setupsSelect.value);
    if (!s) return;
    ctx.replace(s.definition);
    setupName.value = s.name;
    setupMsg.className = "small ok";
    setupMsg.textContent = `Loaded “${s.name}”.`;
  }

  refreshSetups();

  return {
    update() {
      const d = ctx.def();
      notice.textContent = ctx.ui.notice || "";
      notice.hidden = !ctx.ui.notice;
      for (const [el, key] of [[iterations, "iterations"], [seed, "seed"], [sampling, "sampling"], [label, "label"]]) {
        if (document.activeElement !== el) el.value = String(d.settings[key] ?? "");
      }
      renderCell();
      renderInputs();
      renderOutputs();
      renderFixed();
      renderCorrelation();
      showSpec();
    },
  };
}
