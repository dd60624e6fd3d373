// The studio's model definition: inputs, outputs, fixed cells, correlation and run
// settings for one workbook; kept in localStorage per file and turned into a job spec.

const KEY = (fileId) => `montesim.studio.${fileId}`;

export const DEFAULT_SETTINGS = { iterations: 10000, seed: 1, sampling: "lhs", label: "" };

/** A fresh definition from what the workbook declares (Risk* inputs, RiskOutput cells, RAND()). */
export function initialDefinition(book) {
  const inputs = {};
  for (const r of book.random || []) {
    if (r.suggested) inputs[r.cell] = { ...r.suggested, name: "", origin: "random" };
  }
  return {
    inputs,
    fixed: {},
    outputs: (book.outputs || []).map((o) => ({ cell: o.cell, name: o.name || o.cell })),
    correlation: null,
    settings: { ...DEFAULT_SETTINGS },
  };
}

/** Fill the gaps of a stored or loaded definition (older saves, hand-made JSON). */
export function normalise(def) {
  const d = def && typeof def === "object" ? def : {};
  return {
    inputs: d.inputs && typeof d.inputs === "object" ? d.inputs : {},
    fixed: d.fixed && typeof d.fixed === "object" ? d.fixed : {},
    outputs: Array.isArray(d.outputs) ? d.outputs.filter((o) => o && o.cell) : [],
    correlation: d.correlation && Array.isArray(d.correlation.inputs) ? d.correlation : null,
    settings: { ...DEFAULT_SETTINGS, ...(d.settings || {}) },
  };
}

export function loadLocal(fileId) {
  try {
    const raw = localStorage.getItem(KEY(fileId));
    return raw ? normalise(JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}

export function saveLocal(fileId, def) {
  try {
    localStorage.setItem(KEY(fileId), JSON.stringify(def));
  } catch {
    // storage full or disabled: the studio still works, it just does not survive a reload
  }
}

export function clearLocal(fileId) {
  try {
    localStorage.removeItem(KEY(fileId));
  } catch {
    /* nothing kept */
  }
}

/** The @RISK-style text of an input: RiskNormal(10, 2). */
export function distributionText(input, families) {
  const fam = families.find((f) => f.family === input.family);
  const name = fam ? fam.risk_name : input.family;
  const args = (input.params || []).map((p) => (Array.isArray(p) ? `{${p.join(",")}}` : String(p)));
  const trunc = input.truncate && (input.truncate[0] !== null || input.truncate[1] !== null)
    ? `, RiskTruncate(${input.truncate[0] ?? ""}, ${input.truncate[1] ?? ""})` : "";
  return `${name}(${args.join(", ")}${trunc})`;
}

/** The excel engine's job spec for this definition. */
export function buildSpec(fileId, def) {
  const s = def.settings;
  const inputs = {};
  for (const [cell, inp] of Object.entries(def.inputs)) {
    const item = { family: inp.family, params: inp.params };
    if (inp.name) item.name = inp.name;
    if (inp.truncate && (inp.truncate[0] !== null || inp.truncate[1] !== null)) item.truncate = inp.truncate;
    inputs[cell] = item;
  }
  const spec = {
    file_id: fileId,
    iterations: Number(s.iterations),
    seed: Number(s.seed),
    sampling: s.sampling,
    inputs,
    fixed: { ...def.fixed },
    outputs: def.outputs.map((o) => (o.name && o.name !== o.cell ? { cell: o.cell, name: o.name } : o.cell)),
  };
  if (def.correlation && def.correlation.inputs.length >= 2) {
    spec.correlation = { inputs: def.correlation.inputs, matrix: def.correlation.matrix };
  }
  return spec;
}
