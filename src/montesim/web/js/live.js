// Live job state: Server-Sent Events from /api/jobs/{id}/stream, or, where that endpoint
// is missing or fails, polling /api/jobs/{id}/events?after=N every 500 ms. Both read the
// same event log, so the view sees the same records either way.

import { api, ApiError, TERMINAL } from "./api.js";

const POLL_MS = 500;
const RETRY_MS = 2000;
// Named SSE events (the server sets `event:` to the event kind).
const KINDS = ["snapshot", "status", "progress", "stage", "stalled", "message"];

/**
 * Follow job `id`; `onRecord(event)` gets the newest event after each batch,
 * `onMode(mode)` gets "stream", "polling", "offline" or "gone". Returns {close}.
 */
export function watchJob(id, { onRecord, onMode = () => {} }) {
  let lastId = 0;
  let closed = false;
  let source = null;
  let timer = null;

  function close() {
    closed = true;
    if (source) source.close();
    source = null;
    clearTimeout(timer);
  }

  // Apply events in log order; replays of ids already seen are ignored.
  function deliver(events, render = true) {
    let newest = null;
    for (const ev of events) {
      if (typeof ev.id === "number") {
        if (ev.id <= lastId && ev.kind !== "snapshot") continue;
        lastId = Math.max(lastId, ev.id);
      }
      newest = ev;
    }
    if (!newest || closed) return;
    if (!render && !TERMINAL.has(newest.status)) return;
    onRecord(newest);
    if (TERMINAL.has(newest.status)) close();
  }

  async function poll() {
    if (closed) return;
    let delay = POLL_MS;
    try {
      const page = await api.events(id, lastId);
      onMode("polling");
      // A full page means more history is waiting: catch up before showing anything,
      // so the view never steps back to an older record than it already shows.
      const more = page.events.length >= 1000;
      deliver(page.events, !more);
      if (more) delay = 0;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        onMode("gone");
        close();
        return;
      }
      onMode("offline");
      delay = RETRY_MS;
    }
    if (!closed) timer = setTimeout(poll, delay);
  }

  function startPolling() {
    if (source) source.close();
    source = null;
    if (!closed) poll();
  }

  let reopened = 0;
  async function openStream() {
    let url;
    try {
      url = await api.streamUrl(id, lastId);
    } catch {
      startPolling();
      return;
    }
    if (closed) return;
    source = new EventSource(url);
    const handle = (msg) => {
      let ev;
      try {
        ev = JSON.parse(msg.data);
      } catch {
        return;
      }
      onMode("stream");
      deliver([ev]);
    };
    for (const kind of KINDS) source.addEventListener(kind, handle);
    source.onerror = () => {
      if (closed || !source) return;
      // CLOSED: the endpoint is absent (404) or refused us (an expired stream ticket when
      // the browser reconnected): open it again with a fresh ticket, a few times, then fall
      // back to polling from the last event seen. CONNECTING: the browser resumes with
      // Last-Event-ID itself.
      if (source.readyState !== EventSource.CLOSED) {
        onMode("reconnecting");
        return;
      }
      source.close();
      source = null;
      if (url.includes("ticket=") && reopened++ < 3) openStream();
      else startPolling();
    };
  }

  if (typeof EventSource === "undefined") startPolling();
  else openStream();

  return { close };
}
