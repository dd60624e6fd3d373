// Opening a workbook: drag and drop or pick a file (it uploads), or reopen an earlier
// upload by its file name.

import { api } from "../api.js";
import { fill, h } from "../dom.js";
import { time } from "../format.js";
import { problemBox } from "../views/problem.js";
import { studioApi } from "./api.js";

const ACCEPT = ".xlsx,.xlsm";

function kb(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

export function mountOpen(root) {
  let alive = true;
  const picker = h("input", { type: "file", id: "workbook-file", accept: ACCEPT, class: "visually-hidden" });
  const message = h("div", { id: "open-message", "aria-live": "polite" });
  const recent = h("div", { id: "recent-workbooks" }, h("p", { class: "muted" }, "Loading…"));
  const drop = h("label", { class: "dropzone", for: "workbook-file", id: "dropzone" },
    h("span", { class: "drop-title" }, "Drop an Excel workbook here"),
    h("span", { class: "muted" }, "or ", h("span", { class: "linkish" }, "choose a file"), " (.xlsx or .xlsm; macros never run)"));

  async function open(file) {
    if (!file) return;
    if (!/\.(xlsx|xlsm)$/i.test(file.name)) {
      fill(message, problemBox({ message: `${file.name} is not an .xlsx or .xlsm workbook.` }, "Cannot open this file"));
      return;
    }
    fill(message, h("p", { class: "muted" }, `Uploading ${file.name}…`));
    try {
      const up = await api.upload(file);
      if (alive) location.hash = `#/studio/${up.file_id}`;
    } catch (err) {
      if (alive) fill(message, problemBox(err, "Upload failed"));
    }
  }

  picker.addEventListener("change", () => open(picker.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    open(e.dataTransfer.files[0]);
  });

  fill(root, h("div", { class: "studio-open" },
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Workbook studio")),
    h("p", { class: "lead" }, "Open a workbook, click cells to make them inputs (distributions) or outputs, check the model and run the simulation."),
    picker, drop, message,
    h("section", { class: "card", "aria-labelledby": "recent-title" },
      h("h2", { id: "recent-title" }, "Open an earlier upload"), recent)));

  studioApi.workbooks().then((res) => {
    if (!alive) return;
    if (!res.items.length) {
      fill(recent, h("p", { class: "muted" }, "No workbooks uploaded yet."));
      return;
    }
    fill(recent, h("ul", { class: "recent-list" }, res.items.map((f) => h("li", {},
      h("a", { href: `#/studio/${f.file_id}`, class: "recent-name" }, f.filename),
      h("span", { class: "muted small" }, ` uploaded ${time(f.uploaded_at)} · ${kb(f.size)}`)))));
  }, (err) => alive && fill(recent, problemBox(err, "Could not list uploads")));

  return { title: "Workbook studio", destroy() { alive = false; } };
}
