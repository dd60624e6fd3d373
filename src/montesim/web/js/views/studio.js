// The workbook studio: #/studio opens a workbook; #/studio/{file_id} shows it as a grid
// where cells are clicked to become inputs, outputs or fixed values, then checked and run.

import { fill, h } from "../dom.js";
import { onReading, studioApi } from "../studio/api.js";
import { colName, createGrid } from "../studio/grid.js";
import { guessInput, openInputEditor } from "../studio/inputs.js";
import { mountOpen } from "../studio/open.js";
import { areaCells, cellRef, parseRef } from "../studio/refs.js";
import { createSide } from "../studio/side.js";
import { buildSpec, initialDefinition, loadLocal, normalise, saveLocal } from "../studio/state.js";
import { problemBox } from "./problem.js";

const LEGEND = [
  ["m-input", "Workbook input (Risk…)"],
  ["m-input-studio", "Input defined here"],
  ["m-output", "Output"],
  ["m-fixed", "Fixed value"],
  ["m-random", "Random function (RAND…)"],
  ["m-unsupported", "Unsupported function"],
  ["computed", "Value computed by montesim"],
];

export function mountStudio(root, params) {
  if (!params.id) return mountOpen(root);
  return mountWorkbook(root, params.id);
}

function mountWorkbook(root, fileId) {
  let alive = true;
  let book = null;
  let families = [];
  let def = null;
  let selection = null;
  let sheetName = null;
  let trace = null; // {cell, precedents, dependents, mode}
  const ui = {}; // side-panel hooks (check results, etc.)

  const title = h("h1", { tabindex: "-1", id: "studio-title" }, "Workbook studio");
  const headInfo = h("span", { class: "muted small", id: "studio-info" });
  const nameBox = h("input", { type: "text", id: "name-box", class: "name-box mono", "aria-label": "Cell address (type one and press Enter to go there)", autocomplete: "off" });
  const formula = h("input", { type: "text", id: "formula-bar", class: "formula mono", readonly: true, "aria-label": "Formula or value of the selected cell" });
  const traceBtns = h("div", { class: "trace-buttons" },
    h("button", { type: "button", id: "trace-precedents", onClick: () => doTrace("precedents") }, "Precedents"),
    h("button", { type: "button", id: "trace-dependents", onClick: () => doTrace("dependents") }, "Dependents"));
  const traceLine = h("div", { class: "trace-line", id: "trace-line", "aria-live": "polite" });
  const tabs = h("div", { class: "sheet-tabs", role: "tablist", "aria-label": "Sheets" });
  const legend = h("ul", { class: "mark-legend", id: "mark-legend", "aria-label": "Legend" },
    LEGEND.map(([cls, text]) => h("li", {}, h("span", { class: `legend-swatch ${cls}`, "aria-hidden": "true" }), text)));
  const side = h("aside", { class: "studio-side", "aria-label": "Model definition" });
  const message = h("div", { id: "studio-message" });

  const grid = createGrid({
    fetchCells: (sheet, range) => studioApi.cells(fileId, sheet, range),
    classify,
    onSelect: (sel) => { selection = sel; showSelection(); },
    onActivate: () => editInput(),
  });

  fill(root, h("div", { class: "studio" },
    h("div", { class: "studio-head" },
      h("div", {}, h("p", { class: "crumbs" }, h("a", { href: "#/studio" }, "← Open another workbook")), title, headInfo),
      h("button", { type: "button", class: "primary", id: "head-run", onClick: () => {
        document.getElementById("run")?.scrollIntoView({ block: "nearest" });
        document.getElementById("run-model")?.click();
      } }, "Check & run")),
    message,
    h("div", { class: "studio-main" },
      h("section", { class: "sheet-area", "aria-label": "Workbook" },
        h("div", { class: "formula-row" }, nameBox, h("span", { class: "fx", "aria-hidden": "true" }, "fx"), formula, traceBtns),
        traceLine,
        grid.el,
        tabs,
        legend),
      side)));

  // -- definition helpers --------------------------------------------------------------
  const refOf = (sheet, r, c) => cellRef(sheet, `${colName(c)}${r}`);
  const wbInput = (ref) => (book.inputs || []).find((i) => i.cell === ref);
  const randomCell = (ref) => (book.random || []).find((i) => i.cell === ref);
  const isOutput = (ref) => def.outputs.some((o) => o.cell === ref);

  function changed() {
    saveLocal(fileId, def);
    grid.refresh();
    showSelection();
    renderPanel();
  }

  function classify(sheet, r, c, cell) {
    const ref = refOf(sheet, r, c);
    const out = [];
    if (def.inputs[ref]) out.push("m-input-studio");
    else if (ref in def.fixed) out.push("m-fixed");
    else if (cell?.m === "input") out.push("m-input");
    else if (cell?.m === "random") out.push("m-random");
    else if (cell?.m === "unsupported") out.push("m-unsupported");
    if (isOutput(ref)) out.push("m-output");
    return out;
  }

  function labelFor(sel) {
    const risk = wbInput(refOf(sel.sheet, sel.r, sel.c));
    return risk?.name || grid.labelLeft(sel.r, sel.c) || "";
  }

  // -- selection and the formula bar -------------------------------------------------------
  function showSelection() {
    if (!selection) return;
    nameBox.value = refOf(selection.sheet, selection.r, selection.c);
    const cell = selection.cell;
    formula.value = cell ? cell.f || cell.v : "";
    formula.title = cell?.computed ? "Excel saved no value for this formula; montesim computed it with random inputs at their mean." : "";
    renderPanel();
  }

  function go(ref) {
    const p = parseRef(ref);
    if (!p) return false;
    const target = p.sheet ? book.sheets.find((s) => s.name.toUpperCase() === p.sheet.toUpperCase()) : book.sheets.find((s) => s.name === sheetName);
    if (!target) return false;
    if (target.name !== sheetName) showSheet(target.name, { r: p.r, c: p.c });
    else grid.select(p.r, p.c);
    grid.scroller.focus({ preventScroll: true });
    return true;
  }

  nameBox.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    if (!go(nameBox.value)) nameBox.setAttribute("aria-invalid", "true");
    else nameBox.removeAttribute("aria-invalid");
  });

  function showSheet(name, sel) {
    sheetName = name;
    const info = book.sheets.find((s) => s.name === name);
    for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.sheet === name));
    grid.setSheet(info, sel);
    applyTrace();
  }

  // -- precedents / dependents ---------------------------------------------------------------
  async function doTrace(mode) {
    if (!selection) return;
    const ref = refOf(selection.sheet, selection.r, selection.c);
    try {
      const res = await studioApi.trace(fileId, ref);
      trace = { ...res, mode };
      applyTrace();
    } catch (err) {
      fill(traceLine, problemBox(err, "Cannot trace this cell"));
    }
  }

  function applyTrace() {
    const marks = new Map();
    if (!trace) { grid.highlight(marks); fill(traceLine); return; }
    const list = trace[trace.mode];
    for (const area of list) {
      for (const cell of areaCells(area)) {
        const sheet = cell.sheet || sheetName;
        marks.set(`${sheet.toUpperCase()}|${cell.r}|${cell.c}`, trace.mode === "precedents" ? "trace-pre" : "trace-dep");
      }
    }
    grid.highlight(marks);
    const label = trace.mode === "precedents" ? "Precedents of" : "Dependents of";
    fill(traceLine,
      h("span", {}, `${label} ${trace.cell}: `),
      list.length ? list.slice(0, 30).map((ref) => h("button", { type: "button", class: "link", onClick: () => go(ref) }, ref)) : h("span", { class: "muted" }, "none"),
      list.length > 30 ? h("span", { class: "muted" }, ` and ${list.length - 30} more`) : null,
      h("button", { type: "button", class: "link clear", onClick: () => { trace = null; applyTrace(); } }, "Clear"));
  }

  // -- actions on cells ----------------------------------------------------------------------
  function editInput(ref = null) {
    if (ref) go(ref); // show the cell being edited
    const sel = ref ? { ...parseRef(ref), sheet: parseRef(ref).sheet || sheetName } : selection;
    if (!sel) return;
    const target = ref || refOf(sel.sheet, sel.r, sel.c);
    const existing = def.inputs[target];
    const risk = wbInput(target);
    const rand = randomCell(target);
    const cell = sel.sheet === sheetName ? grid.cellAt(sel.r, sel.c) : null;
    let initial = existing;
    if (!initial && rand?.suggested) initial = { ...rand.suggested };
    if (!initial && risk) initial = { family: risk.family, params: riskParams(risk.formula), name: risk.name || "" };
    if (!initial) initial = guessInput(cell?.x);
    if (!initial.name) initial = { ...initial, name: existing?.name || labelFor(sel) };
    openInputEditor({
      cell: target,
      current: cell ? (cell.f ? `${cell.f}  (shows ${cell.v})` : cell.v) : null,
      title: `${existing ? "Edit input" : risk ? "Override input" : "New input"} ${target}`,
      initial,
      families,
      existing: Boolean(existing),
      onSave(input) {
        def.inputs[target] = input;
        delete def.fixed[target];
        changed();
        grid.scroller.focus({ preventScroll: true });
      },
      onRemove() {
        delete def.inputs[target];
        changed();
      },
    });
  }

  function toggleOutput(ref, name) {
    if (isOutput(ref)) def.outputs = def.outputs.filter((o) => o.cell !== ref);
    else def.outputs.push({ cell: ref, name: name || ref });
    changed();
  }

  function fixCell(ref, value) {
    delete def.inputs[ref];
    def.fixed[ref] = value;
    changed();
  }

  // -- the side panel ---------------------------------------------------------------------------
  let panel = null;
  function renderPanel() {
    if (!book || !def) return;
    if (!panel) {
      panel = createSide(side, {
        fileId, ui,
        book: () => book, def: () => def, families: () => families, selection: () => selection,
        refOf, go, wbInput, randomCell, labelFor, isOutput,
        editInput, toggleOutput, fixCell, changed,
        persist: () => saveLocal(fileId, def),
        spec: () => buildSpec(fileId, def),
        replace(next) { def = normalise(next); changed(); },
      });
    }
    panel.update();
  }

  // -- loading ------------------------------------------------------------------------------------
  (async () => {
    fill(message, h("p", { class: "muted", id: "studio-loading" }, "Opening the workbook…"));
    onReading(() => alive && !book && fill(message, h("p", { class: "muted", id: "studio-loading" },
      "Reading the workbook… large workbooks take a few seconds, once.")));
    try {
      const [sheets, fams] = await Promise.all([studioApi.sheets(fileId), studioApi.families()]);
      if (!alive) return;
      book = sheets;
      families = fams.families;
    } catch (err) {
      if (alive) fill(message, problemBox(err, "Cannot open this workbook"));
      return;
    }
    fill(message);
    title.textContent = book.filename;
    document.title = `${book.filename} — Studio — montesim`;
    fill(headInfo, `${book.sheets.length} sheets · ${book.inputs.length} @RISK inputs · ${book.outputs.length} RiskOutput cells`,
      book.computed_values ? " · values in italics were computed by montesim (the file has no saved values)" : "",
      book.uncomputed_formulas ? ` · ${book.uncomputed_formulas.toLocaleString()} formulas have no saved value and are shown as formulas` : "");
    def = loadLocal(fileId);
    if (!def) {
      def = initialDefinition(book);
      try {
        const saved = await studioApi.setups(fileId);
        if (saved.items.length) {
          def = normalise(saved.items[0].definition);
          ui.notice = `Started from the saved setup “${saved.items[0].name}”.`;
        }
      } catch {
        // no setups: start from what the workbook declares
      }
      saveLocal(fileId, def);
    }
    fill(tabs, book.sheets.map((s) => h("button", {
      type: "button", role: "tab", class: "sheet-tab", dataset: { sheet: s.name }, "aria-selected": "false",
      onClick: () => showSheet(s.name),
    }, s.name)));
    const first = book.outputs[0] ? parseRef(book.outputs[0].cell) : null;
    showSheet(first?.sheet || book.sheets[0].name, first ? { r: first.r, c: first.c } : null);
    renderPanel();
  })();

  return {
    title: "Workbook studio",
    destroy() {
      alive = false;
      document.querySelectorAll("dialog.input-editor").forEach((d) => d.close());
    },
  };
}

/** The numbers of an @RISK call, to prefill an override: RiskPert(1, 2, 5, ...) -> [1, 2, 5]. */
function riskParams(formula) {
  const m = String(formula || "").match(/Risk\w+\(([^()]*?)(?:,\s*Risk\w+\(|\))/i);
  if (!m) return [];
  return m[1].split(",").map((t) => t.trim()).filter((t) => t !== "").map((t) => (Number.isFinite(Number(t)) ? Number(t) : NaN));
}
