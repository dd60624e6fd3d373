// Submit a job: engine, spec as JSON (prefilled with the engine's example), label, file.
// For horn jobs the file is an ATH design (.cfg), sent as cfg_file_id.

import { api, ApiError } from "../api.js";
import { fill, h } from "../dom.js";
import { number } from "../format.js";
import { problemBox } from "./problem.js";

/** The spec fields of an engine's JSON schema, as rows for a reference table. */
function schemaRows(schema) {
  const props = schema?.properties || {};
  const required = new Set(schema?.required || []);
  return Object.entries(props).map(([name, p]) => {
    const type = p.type || (p.anyOf || []).map((a) => a.type || a.$ref?.split("/").pop()).filter(Boolean).join(" | ") || (p.$ref ? p.$ref.split("/").pop() : "");
    const bounds = [
      p.minimum !== undefined ? `≥ ${number(p.minimum)}` : null,
      p.exclusiveMinimum !== undefined ? `> ${number(p.exclusiveMinimum)}` : null,
      p.maximum !== undefined ? `≤ ${number(p.maximum)}` : null,
      p.exclusiveMaximum !== undefined ? `< ${number(p.exclusiveMaximum)}` : null,
      p.enum ? `one of ${p.enum.join(", ")}` : null,
    ].filter(Boolean).join(", ");
    return h("tr", {},
      h("th", { scope: "row" }, h("code", {}, name), required.has(name) ? " *" : ""),
      h("td", {}, type || "—"),
      h("td", {}, p.default !== undefined ? h("code", {}, JSON.stringify(p.default)) : "—"),
      h("td", {}, [p.description, bounds].filter(Boolean).join(" · ") || ""));
  });
}

// How the file input reads per engine: its label, what it accepts, the spec field for the
// upload's id, and a help sentence. Engines not listed take the generic workbook/tree file.
const FILE_ROLES = {
  horn: {
    label: "ATH design file (.cfg, optional)",
    accept: ".cfg,text/plain",
    key: "cfg_file_id",
    help: "An ATH-style design (OSSE = { … } or R-OSSE = { … }, Mesh.*, ABEC.Polars:*): uploaded "
      + "first, then sent as cfg_file_id. It replaces the example's geometry and mesh; fields "
      + "you add to the spec override the design's.",
  },
};

// Which form control a problem's location points at.
function fieldFor(location, fileKey) {
  if (!location) return null;
  if (location === "label") return "label-field";
  if (location === "file_key") return "file-key-field";
  if (location === "file" || location.startsWith("spec.file_id")) return "file-field";
  if (fileKey && (location === `spec.${fileKey}` || location.startsWith(`spec.${fileKey}.`))) return "file-field";
  if (location === "engine") return "engine-field";
  if (location === "spec" || location.startsWith("spec")) return "spec-field";
  return null;
}

export function mountSubmit(root, { query }) {
  const wanted = new URLSearchParams(query).get("engine");
  let engines = [];
  let alive = true;

  const engineSelect = h("select", { id: "engine-field", name: "engine", required: true, onChange: () => useEngine(true) });
  const engineInfo = h("p", { class: "muted small", id: "engine-info" });
  const spec = h("textarea", { id: "spec-field", name: "spec", rows: "14", spellcheck: "false", autocomplete: "off",
    "aria-describedby": "spec-help form-problem", class: "mono" });
  const schemaSlot = h("div");
  const label = h("input", { id: "label-field", name: "label", type: "text", maxlength: "200", placeholder: "e.g. Q3 forecast, 100k trials" });
  const file = h("input", { id: "file-field", name: "file", type: "file", "aria-describedby": "file-help file-problem" });
  const fileLabel = h("label", { for: "file-field" }, "Input file (optional)");
  const fileProblem = h("p", { class: "field-problem", id: "file-problem", "aria-live": "polite", hidden: true });
  const fileHelp = h("span");
  const fileKey = h("input", { id: "file-key-field", name: "file_key", type: "text", value: "file_id", class: "mono short",
    pattern: "[A-Za-z_][A-Za-z0-9_]*", "aria-describedby": "file-help" });
  const problem = h("div", { id: "form-problem", "aria-live": "assertive" });
  const submit = h("button", { type: "submit", class: "primary", id: "submit-job" }, "Submit job");
  const reset = h("button", { type: "button", onClick: () => useEngine(true) }, "Reset spec to example");

  const form = h("form", { id: "submit-form", novalidate: true, onSubmit: (e) => { e.preventDefault(); send(); } },
    h("div", { class: "field" }, h("label", { for: "engine-field" }, "Engine"), engineSelect, engineInfo),
    h("div", { class: "field" }, h("label", { for: "spec-field" }, "Spec (JSON)"), spec,
      h("p", { class: "muted small", id: "spec-help" }, "Prefilled with the engine's example. The fields are listed below."),
      schemaSlot),
    h("div", { class: "field" }, h("label", { for: "label-field" }, "Label (optional)"), label),
    h("div", { class: "field", id: "file-block" }, fileLabel, file, fileProblem,
      h("p", { class: "muted small", id: "file-help" }, fileHelp),
      h("p", { class: "inline-form" }, h("label", { for: "file-key-field" }, "Spec field for its id"), fileKey)),
    problem,
    h("div", { class: "actions" }, submit, reset),
  );

  fill(root, h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "New job")), h("div", { class: "card" }, form));

  function clearProblem() {
    fill(problem);
    fill(fileProblem);
    fileProblem.hidden = true;
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function showProblem(err, heading) {
    fill(problem, problemBox(err, heading));
    const where = err.location || err.problem?.location;
    const target = document.getElementById(fieldFor(where, fileKey.value.trim()));
    if (target) target.setAttribute("aria-invalid", "true");
    if (target === file && where) {
      // beside the file: the key in the file that is wrong, in the file's own terms
      const key = where.replace(/^spec\.[A-Za-z_][A-Za-z0-9_]*\.?/, "");
      const name = file.files[0]?.name || "the file";
      fill(fileProblem, key ? [h("code", {}, key), ` in ${name}: `] : `${name}: `, err.problem?.detail || err.message);
      fileProblem.hidden = false;
    }
  }

  // A picked file replaces the example's inline workbook: its cells, names and the outputs
  // that pointed into them go, so the workbook's own RiskOutput() cells are used.
  // A picked design (.cfg) replaces the example's geometry and mesh (a spec's own fields
  // would override the design's), and an inline design.
  function withFile(parsed, key, fileId) {
    const out = { ...parsed, [key]: fileId };
    const example = engines.find((e) => e.name === engineSelect.value)?.example_spec || {};
    if (key === "cfg_file_id") {
      delete out.cfg;
      for (const part of ["geometry", "mesh"]) {
        if (JSON.stringify(out[part]) === JSON.stringify(example[part])) delete out[part];
      }
    }
    if ("cells" in out) {
      delete out.cells;
      delete out.names;
      if (JSON.stringify(out.outputs) === JSON.stringify(example.outputs)) delete out.outputs;
    }
    return out;
  }

  function useEngine(resetSpec) {
    const engine = engines.find((e) => e.name === engineSelect.value);
    if (!engine) return;
    clearProblem();
    engineInfo.textContent = `Work is counted in ${engine.unit}${engine.resumable ? "; resumes from stored chunks after a restart" : ""}.`;
    if (resetSpec || !spec.value.trim()) spec.value = JSON.stringify(engine.example_spec ?? {}, null, 2);
    // Engines name the uploaded file's field in their schema; file_id unless one says "file".
    const props = engine.spec_schema?.properties || {};
    const role = FILE_ROLES[engine.name];
    fileKey.value = role?.key || ("file" in props && !("file_id" in props) ? "file" : "file_id");
    fileLabel.textContent = role?.label || "Input file (optional)";
    if (role) file.setAttribute("accept", role.accept);
    else file.removeAttribute("accept");
    fill(fileHelp, role ? role.help : [
      "A workbook or tree file: uploaded first, then its id is set in the spec under this field. ",
      "To define a workbook's inputs and outputs by clicking its cells, open it in the ",
      h("a", { href: "#/studio" }, "Studio"), "."]);
    const rows = schemaRows(engine.spec_schema);
    fill(schemaSlot, rows.length ? h("details", { class: "schema" }, h("summary", {}, `Spec fields of ${engine.name}`),
      h("div", { class: "table-scroll" }, h("table", { class: "stats" },
        h("thead", {}, h("tr", {}, ["Field", "Type", "Default", "Notes"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))) : null);
  }

  async function send() {
    clearProblem();
    let parsed;
    try {
      parsed = JSON.parse(spec.value);
    } catch (err) {
      showProblem(new ApiError(0, { code: "malformed_json", location: "spec", detail: `The spec is not valid JSON: ${err.message}` }),
        "Cannot submit");
      spec.focus();
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      showProblem(new ApiError(0, { code: "invalid_spec", location: "spec", detail: "The spec must be a JSON object ({...})." }), "Cannot submit");
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      if (file.files.length) {
        const key = fileKey.value.trim();
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
          throw new ApiError(0, { code: "invalid_field", location: "file_key", detail: "The spec field for the file id must be a plain name, e.g. file_id." });
        }
        submit.textContent = "Uploading…";
        const uploaded = await api.upload(file.files[0]);
        parsed = withFile(parsed, key, uploaded.file_id);
        spec.value = JSON.stringify(parsed, null, 2);
      }
      submit.textContent = "Submitting…";
      const body = { engine: engineSelect.value, spec: parsed };
      if (label.value.trim()) body.label = label.value.trim();
      const created = await api.createJob(body);
      if (alive) location.hash = `#/jobs/${created.job_id}`;
    } catch (err) {
      if (alive) showProblem(err, "The server did not accept this job");
    } finally {
      submit.disabled = false;
      submit.textContent = "Submit job";
      form.removeAttribute("aria-busy");
    }
  }

  (async () => {
    try {
      engines = (await api.engines()).engines;
    } catch (err) {
      showProblem(err, "Could not load the engines");
      return;
    }
    if (!alive) return;
    // Engines meant for users; a test or demonstration engine only when a link names it.
    engines = engines.filter((e) => e.user_facing !== false || e.name === wanted);
    fill(engineSelect, engines.map((e) => h("option", { value: e.name }, e.name)));
    const pick = engines.find((e) => e.name === wanted) || engines[0];
    if (pick) engineSelect.value = pick.name;
    useEngine(true);
  })();

  return { title: "New job", destroy() { alive = false; } };
}
