// The router: #/jobs (list), #/new (submit), #/jobs/{id} (detail), #/studio[/{file_id}], #/workers. Views mount into
// <main> and return {title, destroy}.

import { mountCompare } from "./views/compare.js";
import { mountDetail } from "./views/detail.js";
import { mountRiskNew } from "./views/risk-new.js";
import { mountList } from "./views/list.js";
import { mountStudio } from "./views/studio.js";
import { mountSubmit } from "./views/submit.js";
import { mountWorkers } from "./views/workers.js";

const main = document.getElementById("main");
let current = null;
let first = true;

function parse(hash) {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const detail = path.match(/^\/jobs\/([^/]+)$/);
  if (detail) return { nav: "jobs", mount: mountDetail, params: { id: decodeURIComponent(detail[1]), query } };
  if (path === "/risk") return { nav: "risk", mount: mountRiskNew, params: { query } };
  if (path === "/compare") return { nav: "compare", mount: mountCompare, params: { query } };
  const studio = path.match(/^\/studio(?:\/([^/]+))?$/);
  if (studio) return { nav: "studio", mount: mountStudio, params: { id: studio[1] ? decodeURIComponent(studio[1]) : null, query } };
  if (path === "/workers") return { nav: "workers", mount: mountWorkers, params: { query } };
  if (path === "/new") return { nav: "new", mount: mountSubmit, params: { query } };
  return { nav: "jobs", mount: mountList, params: { query: path === "/jobs" ? query : "" } };
}

function route() {
  // Only "#/..." hashes are routes (the skip link and other anchors are not).
  if (location.hash && !location.hash.startsWith("#/")) return;
  current?.destroy();
  const { nav, mount, params } = parse(location.hash || "#/jobs");
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  current = mount(main, params);
  document.title = `${current.title} — montesim`;
  // Move focus to the new view's heading for screen readers, but not on first load.
  if (!first) main.querySelector("h1")?.focus();
  first = false;
}

document.querySelector(".skip-link")?.addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", route);
route();
