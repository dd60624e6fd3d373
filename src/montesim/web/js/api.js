// The HTTP API, with RFC 9457 problem+json errors surfaced as ApiError. On a server
// with tokens, a 401 asks the user for one (auth.js) and the request is sent again.

import { askForToken, authHeaders, forgetToken, withTicket } from "./auth.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || null;
    this.location = problem.location || null;
  }
}

export async function request(method, path, { json, form, text, type } = {}) {
  for (;;) {
    const init = { method, headers: { Accept: "application/json", ...authHeaders() } };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form;
    } else if (text !== undefined) {
      init.headers["Content-Type"] = type || "text/plain";
      init.body = text;
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, { code: "network_error", detail: `Cannot reach the server (${err.message})` });
    }
    const kind = res.headers.get("content-type") || "";
    const body = kind.includes("json") ? await res.json().catch(() => null) : await res.text();
    if (res.ok) return body;
    const problem = body && typeof body === "object" ? body : { detail: body || res.statusText };
    if (res.status === 401) {
      forgetToken();
      if (await askForToken(problem)) continue; // a token was entered: send again
    }
    throw new ApiError(res.status, problem);
  }
}

const job = (id) => `/api/jobs/${encodeURIComponent(id)}`;

export const api = {
  engines: () => request("GET", "/api/engines"),
  workers: () => request("GET", "/api/workers"),
  listJobs: ({ status, limit, offset, engine, label, fileName }) => {
    const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (status) q.set("status", status);
    if (engine) q.set("engine", engine);
    if (label) q.set("label", label);
    if (fileName) q.set("file_name", fileName);
    return request("GET", `/api/jobs?${q}`);
  },
  getJob: (id) => request("GET", job(id)),
  createJob: (body) => request("POST", "/api/jobs", { json: body }),
  cancelJob: (id) => request("POST", `${job(id)}/cancel`),
  deleteJob: (id) => request("DELETE", job(id)),
  setLabel: (id, label) => request("PATCH", job(id), { json: { label } }),
  result: (id) => request("GET", `${job(id)}/result`),
  events: (id, after) => request("GET", `${job(id)}/events?after=${after}`),
  // A promise: with a token in use the URL carries a fresh stream ticket.
  streamUrl: (id, after) => withTicket(`${job(id)}/stream${after ? `?after=${after}` : ""}`),
  upload: (file) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", "/api/files", { form });
  },
};

export const TERMINAL = new Set(["complete", "error", "cancelled"]);
export const ACTIVE = new Set(["queued", "running"]);
