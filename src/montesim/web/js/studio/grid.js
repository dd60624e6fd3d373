// A virtualised spreadsheet grid: only the visible rows and columns are in the DOM; cells
// come from the server in blocks of rows × columns, fetched as they scroll into view.

import { h } from "../dom.js";

const ROW_H = 22;
const HEAD_W = 48;
const HEAD_H = 22;
const BLOCK_ROWS = 100;
const BLOCK_COLS = 40;
const OVERSCAN = 4;
const MAX_BLOCKS = 300;

export function colName(c) {
  let s = "";
  for (let n = c; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** Excel column width (characters) to pixels, a little wider than Calibri 11 for fallback fonts. */
function widthPx(chars) {
  return Math.max(24, Math.round(chars * 7.6 + 8));
}

/**
 * grid = createGrid({ fetchCells(sheet, range) -> Promise<{cells}>, classify(sheet, cell) -> [classes],
 *   onSelect({sheet, r, c, cell}), onActivate(sel) })
 */
export function createGrid({ fetchCells, classify, onSelect, onActivate }) {
  const canvas = h("div", { class: "grid-canvas" });
  const colHead = h("div", { class: "grid-colhead", "aria-hidden": "true" });
  const rowHead = h("div", { class: "grid-rowhead", "aria-hidden": "true" });
  const corner = h("div", { class: "grid-corner", "aria-hidden": "true" });
  const body = h("div", { class: "grid-body" });
  const scroller = h("div", {
    class: "grid-scroll", tabindex: "0", role: "grid", "aria-label": "Worksheet",
    "aria-describedby": "grid-status",
  }, canvas);
  // The headers are sticky (CSS): the browser keeps them on screen while it scrolls, even
  // before this script has drawn the newly visible cells; the corner sticks inside the
  // column header. The body's cells are absolutely placed under them.
  canvas.append(colHead, rowHead, body);
  const status = h("p", { id: "grid-status", class: "visually-hidden", "aria-live": "polite" });
  const el = h("div", { class: "grid" }, scroller, status);

  let sheet = null; // {name, rows, cols, col_widths}
  let nRows = 0;
  let nCols = 0;
  let lefts = [0]; // lefts[c-1] = x of column c; lefts[nCols] = total width
  const blocks = new Map(); // "SHEET|rb|cb" -> "loading" | "done"
  const cells = new Map(); // "SHEET|r|c" -> cell
  let sel = { r: 1, c: 1 };
  let highlights = new Map(); // "SHEET|r|c" -> class
  let frame = 0;

  const key = (r, c) => `${sheet.name.toUpperCase()}|${r}|${c}`;

  function setSheet(info, selection) {
    sheet = info;
    nRows = Math.min(1048576, Math.max(info.rows + 30, 60));
    nCols = Math.min(16384, Math.max(info.cols + 4, 14));
    lefts = [0];
    for (let c = 1; c <= nCols; c++) {
      const w = info.col_widths?.[String(c)];
      lefts.push(lefts[c - 1] + (w ? widthPx(w) : 96));
    }
    canvas.style.width = `${HEAD_W + lefts[nCols]}px`;
    canvas.style.height = `${HEAD_H + nRows * ROW_H}px`;
    rowHead.style.height = `${nRows * ROW_H}px`;
    sel = selection || { r: 1, c: 1 };
    scroller.scrollTop = 0;
    scroller.scrollLeft = 0;
    scroller.setAttribute("aria-rowcount", String(nRows));
    scroller.setAttribute("aria-colcount", String(nCols));
    render();
    reveal();
    announce();
  }

  function colAt(x) {
    let lo = 1;
    let hi = nCols;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lefts[mid - 1] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function visible() {
    const top = scroller.scrollTop;
    const left = scroller.scrollLeft;
    const r1 = Math.max(1, Math.floor(top / ROW_H) + 1 - OVERSCAN);
    const r2 = Math.min(nRows, Math.ceil((top + scroller.clientHeight) / ROW_H) + OVERSCAN);
    const c1 = Math.max(1, colAt(left) - 1);
    const c2 = Math.min(nCols, colAt(left + scroller.clientWidth) + 1);
    return { r1, r2, c1, c2, top, left };
  }

  function ensure(v) {
    for (let rb = Math.floor((v.r1 - 1) / BLOCK_ROWS); rb <= Math.floor((v.r2 - 1) / BLOCK_ROWS); rb++) {
      for (let cb = Math.floor((v.c1 - 1) / BLOCK_COLS); cb <= Math.floor((v.c2 - 1) / BLOCK_COLS); cb++) {
        const k = `${sheet.name.toUpperCase()}|${rb}|${cb}`;
        if (blocks.has(k)) continue;
        const r0 = rb * BLOCK_ROWS + 1;
        const c0 = cb * BLOCK_COLS + 1;
        if (r0 > sheet.rows || c0 > sheet.cols) { blocks.set(k, "done"); continue; }
        blocks.set(k, "loading");
        const range = `${colName(c0)}${r0}:${colName(c0 + BLOCK_COLS - 1)}${r0 + BLOCK_ROWS - 1}`;
        const forSheet = sheet.name;
        fetchCells(forSheet, range).then((page) => {
          for (const cell of page.cells) cells.set(`${forSheet.toUpperCase()}|${cell.r}|${cell.c}`, cell);
          blocks.set(k, "done");
          if (blocks.size > MAX_BLOCKS) forget(blocks.keys().next().value);
          if (sheet && sheet.name === forSheet) { schedule(); announce(); }
        }, () => blocks.delete(k));
      }
    }
  }

  // Drop the oldest block and its cells, so a long scroll keeps memory bounded.
  function forget(blockKey) {
    blocks.delete(blockKey);
    const parts = blockKey.split("|"); // a sheet name may itself hold "|"
    const cb = parts.pop();
    const rb = parts.pop();
    const name = parts.join("|");
    for (let r = Number(rb) * BLOCK_ROWS + 1; r <= (Number(rb) + 1) * BLOCK_ROWS; r++) {
      for (let c = Number(cb) * BLOCK_COLS + 1; c <= (Number(cb) + 1) * BLOCK_COLS; c++) cells.delete(`${name}|${r}|${c}`);
    }
  }

  function cellAt(r, c) {
    return sheet ? cells.get(key(r, c)) || null : null;
  }

  function loaded(r, c) {
    const k = `${sheet.name.toUpperCase()}|${Math.floor((r - 1) / BLOCK_ROWS)}|${Math.floor((c - 1) / BLOCK_COLS)}`;
    return blocks.get(k) === "done";
  }

  function render() {
    frame = 0;
    if (!sheet) return;
    const v = visible();
    ensure(v);
    const parts = [];
    for (let r = v.r1; r <= v.r2; r++) {
      for (let c = v.c1; c <= v.c2; c++) {
        const cell = cellAt(r, c);
        const classes = ["cell"];
        if (cell) {
          if (cell.t === "n") classes.push("num");
          else if (cell.t === "b" || cell.t === "e") classes.push("center");
          if (cell.t === "e") classes.push("err");
          if (cell.computed) classes.push("computed");
          if (cell.uncomputed) classes.push("uncomputed");
          if (cell.f) classes.push("formula");
        }
        classes.push(...classify(sheet.name, r, c, cell));
        const hl = highlights.get(key(r, c));
        if (hl) classes.push(hl);
        if (r === sel.r && c === sel.c) classes.push("selected");
        let width = lefts[c] - lefts[c - 1];
        // Text runs on over empty cells to its right, as in Excel.
        if (cell && cell.t === "s") {
          let n = c + 1;
          while (n <= nCols && n <= c + 6 && !cellAt(r, n) && loaded(r, n)) n++;
          width = lefts[n - 1] - lefts[c - 1];
          if (n > c + 1) classes.push("spill");
        }
        const div = document.createElement("div");
        div.className = classes.join(" ");
        div.style.transform = `translate(${HEAD_W + lefts[c - 1]}px, ${HEAD_H + (r - 1) * ROW_H}px)`;
        div.style.width = `${width}px`;
        div.dataset.r = r;
        div.dataset.c = c;
        div.setAttribute("role", "gridcell");
        div.id = `cell-${colName(c)}${r}`;
        if (cell) div.textContent = cell.v;
        parts.push(div);
      }
    }
    body.replaceChildren(...parts);
    // Only the visible columns' and rows' headers are drawn (their bars are sticky).
    const heads = [];
    for (let c = v.c1; c <= v.c2; c++) {
      const head = h("div", { class: `head${c === sel.c ? " current" : ""}` }, colName(c));
      head.style.transform = `translateX(${HEAD_W + lefts[c - 1]}px)`;
      head.style.width = `${lefts[c] - lefts[c - 1]}px`;
      heads.push(head);
    }
    colHead.replaceChildren(corner, ...heads);
    const rows = [];
    for (let r = v.r1; r <= v.r2; r++) {
      const head = h("div", { class: `head${r === sel.r ? " current" : ""}` }, String(r));
      head.style.transform = `translateY(${(r - 1) * ROW_H}px)`; // below the column header
      rows.push(head);
    }
    rowHead.replaceChildren(...rows);
    scroller.setAttribute("aria-activedescendant", `cell-${colName(sel.c)}${sel.r}`);
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function reveal() {
    const top = HEAD_H + (sel.r - 1) * ROW_H;
    const x = lefts[sel.c - 1];
    const w = lefts[sel.c] - x;
    if (top - HEAD_H < scroller.scrollTop) scroller.scrollTop = top - HEAD_H;
    else if (top + ROW_H > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = top + ROW_H - scroller.clientHeight;
    }
    if (x < scroller.scrollLeft) scroller.scrollLeft = x;
    else if (HEAD_W + x + w > scroller.scrollLeft + scroller.clientWidth) {
      scroller.scrollLeft = HEAD_W + x + w - scroller.clientWidth;
    }
  }

  function announce() {
    if (!sheet) return;
    const cell = cellAt(sel.r, sel.c);
    onSelect({ sheet: sheet.name, r: sel.r, c: sel.c, address: `${colName(sel.c)}${sel.r}`, cell });
  }

  function select(r, c) {
    sel = { r: Math.min(nRows, Math.max(1, r)), c: Math.min(nCols, Math.max(1, c)) };
    reveal();
    render();
    announce();
    status.textContent = `${colName(sel.c)}${sel.r} ${cellAt(sel.r, sel.c)?.v ?? "empty"}`;
  }

  scroller.addEventListener("scroll", schedule, { passive: true });
  new ResizeObserver(schedule).observe(scroller);
  body.addEventListener("click", (e) => {
    const div = e.target.closest(".cell");
    if (!div) return;
    scroller.focus({ preventScroll: true });
    select(Number(div.dataset.r), Number(div.dataset.c));
  });
  body.addEventListener("dblclick", (e) => {
    if (e.target.closest(".cell")) onActivate(sel);
  });
  scroller.addEventListener("keydown", (e) => {
    if (!sheet) return;
    const page = Math.max(1, Math.floor(scroller.clientHeight / ROW_H) - 2);
    const moves = {
      ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
      PageUp: [-page, 0], PageDown: [page, 0],
    };
    if (moves[e.key]) {
      e.preventDefault();
      select(sel.r + moves[e.key][0], sel.c + moves[e.key][1]);
    } else if (e.key === "Home") {
      e.preventDefault();
      select(e.ctrlKey ? 1 : sel.r, 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      onActivate(sel);
    }
  });

  return {
    el,
    scroller,
    setSheet,
    select,
    refresh: schedule,
    cellAt,
    /** The nearest text to the left of (r, c) on the current sheet, if loaded. */
    labelLeft(r, c) {
      for (let k = c - 1; k >= 1 && k >= c - 12; k--) {
        const cell = cellAt(r, k);
        if (cell && cell.t === "s" && cell.v.trim()) return cell.v.trim();
      }
      return null;
    },
    highlight(map) {
      highlights = map;
      schedule();
    },
    get selection() { return sheet ? { sheet: sheet.name, ...sel } : null; },
  };
}
