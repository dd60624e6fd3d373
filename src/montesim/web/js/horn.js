// A horn job's result: on-axis SPL, throat impedance and DI over frequency, a polar map
// (frequency × angle, colour in dB) per plane, the mesh's size and the failed frequencies.

import { h, s } from "./dom.js";
import { freqChart, polarChooser } from "./horn-charts.js";

const MAP_FLOOR_DB = -30;
// dark blue → cyan → yellow → red: levels from the floor up to 0 dB
const STOPS = [[0, [33, 45, 110]], [0.35, [32, 150, 200]], [0.65, [120, 200, 110]], [0.85, [250, 210, 60]], [1, [215, 40, 40]]];

function colour(db) {
  const t = Math.min(1, Math.max(0, (db - MAP_FLOOR_DB) / -MAP_FLOOR_DB));
  let i = 1;
  while (i < STOPS.length - 1 && STOPS[i][0] < t) i++;
  const [t0, c0] = STOPS[i - 1];
  const [t1, c1] = STOPS[i];
  const f = (t - t0) / (t1 - t0 || 1);
  return `rgb(${c0.map((v, k) => Math.round(v + f * (c1[k] - v))).join(",")})`;
}

const points = (xs, ys) => xs.map((x, i) => [x, ys[i]]).filter(([, y]) => y !== null && y !== undefined);
const hz = (f) => (f >= 1000 ? `${+(f / 1000).toPrecision(3)}k` : `${Math.round(f)}`);
const isMeshWarning = (w) => /^mesh accuracy|elements per wavelength/.test(w);

/** The mesh-accuracy notes, shown open: they say which frequencies to distrust. */
function meshAlert(meta) {
  const notes = (meta.warnings || []).filter(isMeshWarning);
  if (!notes.length) return null;
  return h("div", { class: "horn-mesh-warning", role: "alert" },
    h("h3", {}, "Mesh accuracy"),
    h("ul", {}, notes.map((w) => h("li", {}, w))));
}

/** One plane's polar map as an SVG heatmap; null when no frequency has data. */
function polarMap(name, freqs, curves) {
  const ok = curves.map((c, i) => [freqs[i], c]).filter(([, c]) => Array.isArray(c));
  if (!ok.length) return null;
  const angles = ok[0][1].map(([a]) => a);
  const W = 640, H = 300, L = 56, B = 40, T = 8, R = 8;
  const cw = (W - L - R) / freqs.length;
  const ch = (H - T - B) / angles.length;
  const cells = [];
  freqs.forEach((f, i) => {
    const curve = curves[i];
    angles.forEach((a, j) => {
      const db = Array.isArray(curve) ? curve[j][1] : null;
      cells.push(s("rect", {
        x: (L + i * cw).toFixed(1), y: (T + j * ch).toFixed(1), width: (cw + 0.5).toFixed(1), height: (ch + 0.5).toFixed(1),
        fill: db === null ? "#e6e6e6" : colour(db), dataset: { f: String(f), angle: String(a) },
      }, s("title", {}, db === null ? `${hz(f)} Hz, ${a}°: ${Array.isArray(curve) ? "no level (behind the baffle)" : "failed"}` : `${hz(f)} Hz, ${a}°: ${db.toFixed(1)} dB`)));
    });
  });
  const step = Math.max(1, Math.ceil(freqs.length / 10));
  const xTicks = freqs.map((f, i) => [f, i]).filter(([, i]) => i % step === 0)
    .map(([f, i]) => s("text", { x: L + (i + 0.5) * cw, y: H - B + 16, "text-anchor": "middle", class: "tick" }, hz(f)));
  const yStep = Math.max(1, Math.ceil(angles.length / 7));
  const yTicks = angles.map((a, j) => [a, j]).filter(([, j]) => j % yStep === 0)
    .map(([a, j]) => s("text", { x: L - 6, y: T + (j + 0.5) * ch + 4, "text-anchor": "end", class: "tick" }, `${a}°`));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart polar-map", role: "img", "aria-label": `Polar map, ${name}` },
    cells, xTicks, yTicks,
    s("text", { x: L + (W - L - R) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" }, "Frequency (Hz)"));
  return h("figure", { class: "chart-figure", dataset: { plane: name } }, h("figcaption", {}, `Polar map: ${name}`), svg);
}

function legend() {
  const stops = [0, -6, -12, -18, -24, -30];
  return h("p", { class: "polar-legend muted" }, "dB re norm angle: ",
    stops.map((db) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = colour(db);
      return h("span", { class: "swatch-label" }, swatch, ` ${db} `);
    }));
}

/** The result section for a horn job (GET /api/jobs/{id}/result body). */
export function renderHorn(body, { artifactList, rawJson }) {
  const r = body.result;
  const meta = r.metadata || {};
  const freqs = r.frequencies || [];
  const mesh = meta.mesh || {};
  const facts = h("table", { class: "kv", "aria-label": "Summary" }, h("tbody", {},
    [["Waveguide", meta.formula || "user mesh"], ["Triangles", (mesh.triangles ?? "—").toLocaleString()],
      ["Frequencies", `${freqs.length} (${freqs.length - (meta.failures || []).length} solved)`],
      ["Observation distance", `${meta.distance_m} m`], ["Solve time", `${meta.timings?.total_solve_seconds ?? "—"} s`]]
      .map(([k, v]) => h("tr", { dataset: { key: k } }, h("th", { scope: "row" }, k), h("td", {}, String(v))))));
  const failures = (meta.failures || []).length
    ? h("div", { class: "horn-failures", role: "status" }, h("h3", {}, "Failed frequencies"),
      h("ul", {}, meta.failures.map((f) => h("li", {}, h("strong", {}, `${hz(f.frequency)} Hz: `), f.reason))))
    : null;
  const others = (meta.warnings || []).filter((w) => !isMeshWarning(w));
  const warnings = others.length
    ? h("details", { class: "horn-warnings" }, h("summary", {}, `${others.length} other note(s)`), h("ul", {}, others.map((w) => h("li", {}, w))))
    : null;
  const conv = meta.conventions || {};
  const drive = conv.source_quantity === "acceleration" ? "1 m/s² at the throat" : "1 m/s at the throat";
  const pressure = conv.pressure === "amplitude" ? "amplitude" : "RMS";
  const widths = r.beamwidth?.degrees || {};
  const charts = [
    freqChart([{ name: "On-axis SPL", points: points(freqs, r.spl_on_axis?.spl || []) }],
      { title: `On-axis SPL at ${meta.distance_m} m (dB, ${pressure}, ${drive})`, yTitle: "dB SPL", db: true, span: 30, name: "spl" }),
    freqChart([
      { name: "Re z / ρc", points: points(freqs, r.impedance?.real || []) },
      { name: "Im z / ρc", points: points(freqs, r.impedance?.imaginary || []) },
    ], { title: "Throat impedance (normalised by ρc)", yTitle: "z / ρc", name: "impedance" }),
    freqChart([{ name: "DI", points: points(freqs, r.di?.di || []) }],
      { title: "Directivity index (dB)", yTitle: "dB", db: true, span: 15, name: "di" }),
    freqChart(Object.entries(widths).map(([plane, values]) => ({ name: plane, points: points(freqs, values) })),
      { title: "Beamwidth, −6 dB (degrees)", yTitle: "degrees", name: "beamwidth" }),
  ].filter(Boolean);
  const maps = Object.entries(r.directivity || {}).map(([name, curves]) => polarMap(name, freqs, curves)).filter(Boolean);
  const polar = polarChooser(r, freqs);
  const downloads = (body.artifacts || []).length
    ? h("p", { class: "muted horn-downloads-note" },
      "FRD (on-axis SPL and phase) and ZMA (throat impedance) import into VituixCAD and REW; the CSV holds every series.")
    : null;
  return h("div", { class: "result horn-result", id: "job-result" },
    facts, meshAlert(meta), failures, warnings,
    charts.length ? [h("h3", {}, "Frequency response"), h("div", { class: "charts" }, charts)] : null,
    polar ? [h("h3", {}, "Polar at a frequency"), polar] : null,
    maps.length ? [h("h3", {}, "Directivity"), legend(), h("div", { class: "charts" }, maps)] : null,
    downloads, artifactList(body.artifacts), rawJson(r));
}
