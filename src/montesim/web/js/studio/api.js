// The studio's endpoints (workbooks, sheets, checks, setups) over the shared request().

import { request } from "../api.js";

const file = (id) => `/api/files/${encodeURIComponent(id)}`;

export const studioApi = {
  workbooks: () => request("GET", "/api/files?kind=workbook&limit=50"),
  sheets: (id) => request("GET", `${file(id)}/sheets`),
  cells: (id, sheet, range) =>
    request("GET", `${file(id)}/sheets/${encodeURIComponent(sheet)}/cells?range=${encodeURIComponent(range)}`),
  trace: (id, cell) => request("GET", `${file(id)}/trace?cell=${encodeURIComponent(cell)}`),
  check: (id, spec) => request("POST", `${file(id)}/check`, { json: spec }),
  families: () => request("GET", "/api/distributions"),
  preview: (body) => request("POST", "/api/distributions/preview", { json: body }),
  checkCorrelation: (body) => request("POST", "/api/correlations/check", { json: body }),
  setups: (id) => request("GET", `${file(id)}/setups`),
  saveSetup: (id, name, definition) => request("POST", `${file(id)}/setups`, { json: { name, definition } }),
};
