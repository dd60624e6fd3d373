// A new risk-tree job: load a tree file (YAML, JSON, CSV register, register's JSON), or
// build one in a form checked by the server as you type, with errors naming the node.

import { api, request } from "../api.js";
import { fill, h } from "../dom.js";
import { integer } from "../format.js";
import { problemBox } from "./problem.js";

// Every severity family of the engine: [field, label, kind] (kind: number, pairs "p:x, …", list "x, …").
const FAMILIES = {
  lognormal: [["low", "5th percentile"], ["high", "95th percentile"]],
  pert: [["min", "min"], ["mode", "most likely"], ["max", "max"]],
  triangular: [["min", "min"], ["mode", "most likely"], ["max", "max"]],
  uniform: [["min", "min"], ["max", "max"]],
  normal: [["mean", "mean"], ["sd", "std dev"]],
  metalog: [["quantiles", "p:loss, …", "pairs"], ["terms", "terms"], ["lower", "lower bound"], ["upper", "upper bound"]],
  empirical: [["samples", "losses, …", "list"]],
};
const showParam = (value, kind) => (value === undefined || value === null ? ""
  : kind === "pairs" ? value.map(([p, x]) => `${p}:${x}`).join(", ")
    : kind === "list" ? value.join(", ") : value);
function readParam(text, kind) {
  if (kind === "pairs") return text.split(",").map((pair) => pair.split(":").map((v) => Number(v.trim())));
  if (kind === "list") return text.split(",").map((v) => Number(v.trim()));
  return Number(text);
}
function download(name, text) {
  const a = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}
const CHECK_DELAY_MS = 300;

const importText = (text, filename) =>
  request("POST", `/api/risktree/import?filename=${encodeURIComponent(filename)}`, { text });

const validate = (spec) => request("POST", "/api/risktree/validate", { json: spec });

function outlinePreview(nodes) {
  return h("ul", { class: "node-preview", id: "tree-preview" }, nodes.map((n) => {
    const li = h("li", { dataset: { node: n.name, kind: n.kind } },
      h("span", { class: n.kind === "portfolio" ? "portfolio" : "leaf" }, n.name),
      h("span", { class: "muted small" }, n.kind === "portfolio" ? " portfolio" : " leaf"));
    li.style.paddingLeft = `${n.depth * 1.1}rem`;
    return li;
  }));
}

function numberInput(value, label, attrs = {}) {
  return h("input", { type: "number", step: "any", value: value ?? "", "aria-label": label, class: "num-in", ...attrs });
}

export function mountRiskNew(root) {
  let alive = true;
  let timer = null;
  let checkSeq = 0;
  let loadedFile = null; // {file, nodes, tree, settings}
  // tolerance, correlation (the copula) and output options, edited as JSON beside the form
  const extras = h("textarea", { id: "tree-extras", rows: 6, spellcheck: "false", class: "code-in",
    "aria-label": "Copula, tolerance and output (JSON)", placeholder: '{"correlation": {"leaves": ["A", "B"], "matrix": [[1, 0.5], [0.5, 1]]}, "tolerance": [[1000000, 0.1]]}' });
  const carriedSettings = () => {
    const text = extras.value.trim();
    if (!text) return {};
    const parsed = JSON.parse(text); // a mistake here is shown by the check below the form
    if (typeof parsed !== "object" || Array.isArray(parsed) || parsed === null) throw new Error("must be a JSON object");
    return parsed;
  };

  const trials = numberInput(20000, "Trials", { id: "risk-trials", min: 1, step: 1 });
  const seed = numberInput(1, "Seed", { id: "risk-seed", min: 0, step: 1 });
  const label = h("input", { type: "text", id: "risk-label", maxlength: "200", placeholder: "e.g. Enterprise risks 2026" });
  const problem = h("div", { id: "risk-problem", "aria-live": "assertive" });

  // -- from a file ---------------------------------------------------------------------
  const fileInput = h("input", { type: "file", id: "tree-file", accept: ".yaml,.yml,.json,.csv,text/csv,application/json" });
  const fileStatus = h("div", { id: "file-status", "aria-live": "polite" });
  const runFile = h("button", { type: "button", class: "primary", id: "run-file", disabled: true }, "Run this tree");
  const editFile = h("button", { type: "button", id: "edit-file", disabled: true }, "Edit in the form");
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files?.[0];
    loadedFile = null;
    runFile.disabled = true;
    editFile.disabled = true;
    if (!file) return fill(fileStatus);
    fill(fileStatus, h("p", { class: "muted" }, `Checking ${file.name}…`));
    try {
      const doc = await importText(await file.text(), file.name);
      const checked = await validate(doc);
      if (!alive) return;
      loadedFile = { file, nodes: checked.nodes, tree: checked.tree, settings: checked.settings || {} };
      const leaves = checked.nodes.filter((n) => n.kind === "leaf").length;
      fill(fileStatus, h("p", { class: "ok", id: "file-ok" }, `✓ ${file.name}: ${integer(checked.nodes.length)} nodes (${integer(leaves)} leaves), ready to run.`),
        outlinePreview(checked.nodes));
      runFile.disabled = false;
      editFile.disabled = false;
    } catch (err) {
      if (alive) fill(fileStatus, problemBox(err, `${file.name} cannot be used`));
    }
  });
  runFile.addEventListener("click", async () => {
    if (!loadedFile) return;
    runFile.disabled = true;
    try {
      const { file_id: fileId } = await api.upload(loadedFile.file);
      await submit({ file_id: fileId });
    } catch (err) {
      fill(problem, problemBox(err, "The job was not submitted"));
    } finally {
      runFile.disabled = !loadedFile;
    }
  });

  // -- built in the form ---------------------------------------------------------------
  const rootName = h("input", { type: "text", id: "root-name", value: "All risks", "aria-label": "Root portfolio name" });
  const rows = h("tbody", { id: "node-rows" });
  const check = h("div", { id: "tree-check", "aria-live": "polite", class: "tree-check" });
  const runForm = h("button", { type: "button", class: "primary", id: "run-form", disabled: true }, "Run this tree");

  function portfolioNames() {
    return [rootName.value.trim(), ...[...rows.children].filter((r) => r.dataset.kind === "portfolio")
      .map((r) => r.querySelector(".node-name").value.trim())].filter(Boolean);
  }

  function refreshParents() {
    const names = portfolioNames();
    for (const sel of rows.querySelectorAll("select.node-parent")) {
      const current = sel.value || sel.dataset.want || names[0];
      fill(sel, names.map((n) => h("option", { value: n, selected: n === current }, n)));
    }
  }

  function severityFields(row, family, values = {}) {
    const slot = row.querySelector(".severity-params");
    fill(slot, FAMILIES[family].map(([key, text, kind]) => h("label", { class: "param" }, h("span", { class: "muted small" }, text),
      kind ? h("input", { type: "text", class: "text-in", value: showParam(values[key], kind), "aria-label": text, dataset: { param: key, kind } })
        : numberInput(values[key], `${text}`, { dataset: { param: key } }))));
  }

  function addRow(kind, init = {}) {
    const name = h("input", { type: "text", class: "node-name", value: init.name || "", "aria-label": `${kind} name`, placeholder: kind === "leaf" ? "Risk name" : "Portfolio name" });
    const parent = h("select", { class: "node-parent", "aria-label": "Parent", dataset: { want: init.parent || "" } });
    const remove = h("button", { type: "button", class: "mini", "aria-label": "Remove", onClick: () => { row.remove(); refreshParents(); schedule(); } }, "✕");
    let cells;
    if (kind === "leaf") {
      const occurrence = h("select", { class: "occurrence", "aria-label": "Occurrence" },
        h("option", { value: "probability", selected: !init.frequency }, "Probability"), h("option", { value: "frequency", selected: !!init.frequency }, "Frequency / yr"));
      const occValue = numberInput(init.frequency ?? init.probability ?? 0.1, "Occurrence value", { class: "num-in occ-value", min: 0 });
      const family = h("select", { class: "family", "aria-label": "Severity family" },
        Object.keys(FAMILIES).map((f) => h("option", { value: f, selected: f === (init.family || "lognormal") }, f)));
      const deductible = numberInput(init.deductible || "", "Deductible", { class: "num-in deductible", min: 0 });
      const cap = numberInput(init.cap ?? "", "Cap", { class: "num-in cap", min: 0 });
      cells = [h("td", {}, occurrence, occValue), h("td", {}, family), h("td", { class: "severity-params" }),
        h("td", {}, h("label", { class: "param" }, h("span", { class: "muted small" }, "deductible"), deductible),
          h("label", { class: "param" }, h("span", { class: "muted small" }, "cap"), cap))];
      family.addEventListener("change", () => { severityFields(row, family.value); schedule(); });
    } else {
      cells = [h("td", { colspan: 4, class: "muted small" }, "Groups the risks below it; its loss is their sum.")];
    }
    const row = h("tr", { dataset: { kind, controls: JSON.stringify(init.controls || []) } },
      h("td", {}, h("span", { class: `kind-tag ${kind}` }, kind === "leaf" ? "Leaf" : "Portfolio")),
      h("td", {}, name), h("td", {}, parent), cells, h("td", {}, remove));
    rows.append(row);
    if (kind === "leaf") severityFields(row, init.family || "lognormal", init.params || { low: 10000, high: 250000 });
    row.addEventListener("input", schedule);
    row.addEventListener("change", schedule);
    name.addEventListener("input", refreshParents);
    refreshParents();
    return row;
  }

  /** The spec the form describes (numbers left blank stay out, so the server names them). */
  function formSpec() {
    const portfolios = [];
    const leaves = [];
    for (const row of rows.children) {
      const name = row.querySelector(".node-name").value.trim();
      const parent = row.querySelector(".node-parent").value || null;
      if (row.dataset.kind === "portfolio") {
        portfolios.push({ name, parent });
        continue;
      }
      const occ = row.querySelector(".occurrence").value;
      const severity = { family: row.querySelector(".family").value };
      for (const input of row.querySelectorAll("[data-param]")) {
        if (input.value !== "") severity[input.dataset.param] = readParam(input.value, input.dataset.kind);
      }
      const occValue = row.querySelector(".occ-value").value;
      const leaf = { name, parent, [occ]: occValue === "" ? null : Number(occValue), severity };
      const deductible = row.querySelector(".deductible").value;
      const cap = row.querySelector(".cap").value;
      if (deductible !== "") leaf.deductible = Number(deductible);
      if (cap !== "") leaf.cap = Number(cap);
      const controls = JSON.parse(row.dataset.controls || "[]");
      if (controls.length) leaf.controls = controls;  // kept from a loaded file
      leaves.push(leaf);
    }
    // settings a loaded file carried (tolerance, copula, output) travel with the form's tree
    return { ...carriedSettings(), tree: { name: rootName.value.trim(), portfolios, leaves }, trials: Number(trials.value), seed: Number(seed.value) };
  }

  function markRows(location) {
    for (const row of rows.children) row.removeAttribute("aria-invalid");
    const m = /\[['"](.+?)['"]\]/.exec(location || "");
    if (!m) return;
    for (const row of rows.children) {
      if (row.querySelector(".node-name").value.trim() === m[1]) row.setAttribute("aria-invalid", "true");
    }
  }

  function schedule() {
    clearTimeout(timer);
    runForm.disabled = true;
    timer = setTimeout(runCheck, CHECK_DELAY_MS);
  }

  async function runCheck() {
    const seq = ++checkSeq;
    let spec;
    try {
      spec = formSpec();
    } catch (err) {
      fill(check, h("p", { class: "tree-error", id: "tree-invalid", role: "alert" }, `Copula, tolerance and output: ${err.message}`));
      return;
    }
    try {
      const out = await validate(spec);
      if (!alive || seq !== checkSeq) return;
      markRows(null);
      fill(check, h("p", { class: "ok", id: "tree-valid" }, `✓ Valid tree: ${integer(out.nodes.length)} nodes.`));
      runForm.disabled = false;
    } catch (err) {
      if (!alive || seq !== checkSeq) return;
      markRows(err.location);
      fill(check, h("p", { class: "tree-error", id: "tree-invalid", role: "alert" }, err.message,
        err.location ? h("span", { class: "muted small" }, ` (${err.location})`) : null));
    }
  }

  runForm.addEventListener("click", async () => {
    runForm.disabled = true;
    try {
      await submit(formSpec());
    } catch (err) {
      fill(problem, problemBox(err, "The job was not submitted"));
      runForm.disabled = false;
    }
  });

  async function submit(spec) {
    fill(problem);
    const body = { engine: "risktree", spec: { ...spec, trials: Number(trials.value), seed: Number(seed.value) } };
    if (label.value.trim()) body.label = label.value.trim();
    const job = await api.createJob(body);
    location.hash = `#/jobs/${job.job_id}`;
  }

  /** Put a checked tree (flat, as /validate gives it) into the form, row by row. */
  function loadIntoForm(tree, settings) {
    const parents = new Map(tree.portfolios.map((p) => [p.name, p.parent ?? null]));
    const root = tree.name && !parents.has(tree.name) ? tree.name : tree.portfolios.find((p) => !p.parent)?.name;
    rootName.value = root || "All risks";
    fill(rows);
    for (const p of tree.portfolios) if (p.name !== root) addRow("portfolio", { name: p.name, parent: p.parent });
    for (const leaf of tree.leaves) {
      const { family, ...params } = leaf.severity;
      addRow("leaf", { ...leaf, family, params });
    }
    extras.value = Object.keys(settings || {}).length ? JSON.stringify(settings, null, 1) : "";
    refreshParents();
    schedule();
  }
  editFile.addEventListener("click", () => {
    if (!loadedFile) return;
    loadIntoForm(loadedFile.tree, loadedFile.settings);
    document.getElementById("from-form")?.scrollIntoView();
  });
  const exportJson = h("button", { type: "button", id: "export-json", onClick: () => {
    try {
      download("risk-tree.json", JSON.stringify(formSpec(), null, 2));
    } catch (err) {
      fill(check, problemBox(err, "The tree cannot be written"));
    }
  } }, "Download JSON");
  const exportRegister = h("button", { type: "button", id: "export-register", onClick: async () => {
    try {
      const out = await request("POST", "/api/risktree/export", { json: formSpec() });
      download("risk-tree.register.json", JSON.stringify(out.register, null, 2));
    } catch (err) {
      fill(check, problemBox(err, "register's format cannot hold this tree"));
    }
  } }, "Export for register");

  rootName.addEventListener("input", () => { refreshParents(); schedule(); });
  trials.addEventListener("input", schedule);
  extras.addEventListener("input", schedule);

  fill(root,
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "New risk tree")),
    h("section", { class: "panel risk-settings" },
      h("div", { class: "inline-form" },
        h("label", { for: "risk-trials" }, "Trials"), trials,
        h("label", { for: "risk-seed" }, "Seed"), seed,
        h("label", { for: "risk-label" }, "Label"), label)),
    problem,
    h("div", { class: "risk-sources" },
      h("section", { class: "panel", id: "from-file" },
        h("div", { class: "panel-head" }, h("h2", { class: "panel-title" }, "From a file")),
        h("p", { class: "muted small" }, "YAML or JSON trees (nested or flat), a CSV risk register (name, parent, probability, low, high), or register's JSON export."),
        fileInput, fileStatus, h("div", { class: "actions" }, runFile, editFile)),
      h("section", { class: "panel", id: "from-form" },
        h("div", { class: "panel-head" }, h("h2", { class: "panel-title" }, "Or build it here")),
        h("div", { class: "inline-form" }, h("label", { for: "root-name" }, "Root portfolio"), rootName),
        h("div", { class: "table-scroll" }, h("table", { class: "stat-table node-form" },
          h("thead", {}, h("tr", {}, ["", "Name", "Parent", "Occurrence", "Severity", "Parameters", "Terms", ""].map((t) => h("th", {}, t)))),
          rows)),
        h("div", { class: "actions" },
          h("button", { type: "button", id: "add-leaf", onClick: () => { addRow("leaf"); schedule(); } }, "+ Leaf"),
          h("button", { type: "button", id: "add-portfolio", onClick: () => { addRow("portfolio"); schedule(); } }, "+ Portfolio")),
        h("details", { class: "tree-extras" }, h("summary", {}, "Copula, tolerance and output (JSON)"), extras),
        check,
        h("div", { class: "actions" }, runForm, exportJson, exportRegister))));

  addRow("leaf", { name: "Data breach", probability: 0.1, params: { low: 50000, high: 2000000 } });
  addRow("leaf", { name: "Fire", probability: 0.02, params: { low: 100000, high: 5000000 } });
  schedule();
  return { title: "New risk tree", destroy() { alive = false; clearTimeout(timer); } };
}
