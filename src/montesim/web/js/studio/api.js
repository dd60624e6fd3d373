// The studio's endpoints (workbooks, sheets, checks, setups) over the shared request().

import { request } from "../api.js";

const file = (id) => `/api/files/${encodeURIComponent(id)}`;

// A big workbook is read in the background: its endpoints answer 202 {status: "reading"}
// until the server has it; ask again after a pause (onWait tells the page).
let onWait = () => {};
export function onReading(fn) {
  onWait = fn;
}

async function whenRead(call) {
  for (let attempt = 0; ; attempt++) {
    const body = await call();
    if (!body || body.status !== "reading") return body;
    onWait(attempt);
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 400 + attempt * 200)));
  }
}

export const studioApi = {
  workbooks: () => request("GET", "/api/files?kind=workbook&limit=50"),
  sheets: (id) => whenRead(() => request("GET", `${file(id)}/sheets`)),
  cells: (id, sheet, range) => whenRead(() =>
    request("GET", `${file(id)}/sheets/${encodeURIComponent(sheet)}/cells?range=${encodeURIComponent(range)}`)),
  trace: (id, cell) => whenRead(() => request("GET", `${file(id)}/trace?cell=${encodeURIComponent(cell)}`)),
  check: (id, spec) => whenRead(() => request("POST", `${file(id)}/check`, { json: spec })),
  families: () => request("GET", "/api/distributions"),
  preview: (body) => request("POST", "/api/distributions/preview", { json: body }),
  checkCorrelation: (body) => request("POST", "/api/correlations/check", { json: body }),
  setups: (id) => request("GET", `${file(id)}/setups`),
  saveSetup: (id, name, definition) => request("POST", `${file(id)}/setups`, { json: { name, definition } }),
};
