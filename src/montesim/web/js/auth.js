// Access tokens (servers with MONTESIM_AUTH=tokens). When the server answers 401 the page
// asks for a token in a dialog and keeps it in sessionStorage (this tab only, gone when it
// closes); requests send it as a Bearer token. EventSource cannot send headers, so streams
// carry a short-lived ticket from POST /api/tickets instead; downloads are fetched with the
// token and saved from memory.

import { h } from "./dom.js";

const KEY = "montesim.token";

export function currentToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: ask again on every 401
  }
}

function keep(token) {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled */
  }
}

export function authHeaders() {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function forgetToken() {
  keep(null);
}

let pending = null;

/**
 * Ask the user for a token (one dialog however many requests were refused at once).
 * Resolves true once a token is entered, false when the user cancels. `problem` is the
 * 401's body: a token that was sent and refused says so in the dialog.
 */
export function askForToken(problem) {
  if (!pending) {
    pending = showDialog(problem).finally(() => {
      pending = null;
    });
  }
  return pending;
}

function showDialog(problem) {
  const refused = problem && problem.code && problem.code !== "token_required";
  const input = h("input", {
    type: "password", id: "token-input", name: "token", autocomplete: "off", spellcheck: "false",
    placeholder: "mst_…", required: true, "aria-describedby": "token-help",
  });
  const message = h("p", { class: "token-message", id: "token-message", role: "alert" },
    refused ? "That token was not accepted: it is unknown or was revoked." : "");
  const form = h("form", { method: "dialog", class: "token-form" },
    h("div", { class: "token-head" },
      h("span", { class: "token-icon", "aria-hidden": "true" }, "🔑"),
      h("div", {},
        h("h2", { id: "token-title" }, "Access token needed"),
        h("p", { class: "muted small", id: "token-help" },
          "This server asks every client for a token. Paste the one its operator gave you ",
          "(made with ", h("code", {}, "montesim token create NAME"), "). ",
          "It is kept in this tab only."))),
    h("label", { for: "token-input" }, "Token"),
    input,
    message,
    h("div", { class: "actions token-actions" },
      h("button", { type: "button", value: "cancel", id: "token-cancel" }, "Cancel"),
      h("button", { type: "submit", value: "ok", class: "primary", id: "token-submit" }, "Continue")));
  const dialog = h("dialog", { class: "token-dialog", id: "token-dialog", "aria-labelledby": "token-title" }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answered = false;
    const finish = (ok) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) {
        message.textContent = "Paste a token first.";
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      keep(token);
      finish(true);
    });
    form.querySelector("#token-cancel").addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      finish(false);
    });
    dialog.showModal();
    input.focus();
  });
}

/** `url` with a fresh stream ticket when a token is in use (EventSource sends no headers). */
export async function withTicket(url) {
  const headers = authHeaders();
  if (!headers.Authorization) return url;
  const res = await fetch("/api/tickets", { method: "POST", headers: { Accept: "application/json", ...headers } });
  if (!res.ok) return url; // the stream then fails and the caller falls back to polling
  const { ticket } = await res.json();
  return `${url}${url.includes("?") ? "&" : "?"}ticket=${encodeURIComponent(ticket)}`;
}

// Download links (`<a download href="/api/...">`) cannot send the token: with one in use,
// fetch the file with it and save it from memory. (Not in Node, where the chart maths
// modules are tested without a document.)
globalThis.document?.addEventListener("click", async (e) => {
  const link = e.target instanceof Element ? e.target.closest("a[download]") : null;
  if (!link || !currentToken() || e.defaultPrevented) return;
  const href = link.getAttribute("href") || "";
  if (!href.startsWith("/api/")) return;
  e.preventDefault();
  let res = await fetch(href, { headers: authHeaders() });
  if (res.status === 401 && (await askForToken(await res.json().catch(() => null)))) {
    res = await fetch(href, { headers: authHeaders() });
  }
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const save = h("a", { href: url, download: link.getAttribute("download") || "" });
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
});
