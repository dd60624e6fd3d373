// Cell addresses as the server writes them: Sheet1!B2, 'My sheet'!B2.

export function quoteSheet(name) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

export function cellRef(sheet, address) {
  return `${quoteSheet(sheet)}!${address}`;
}

function colNumber(letters) {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/** {sheet, r, c, address} from "Sheet!B2" / "'My sheet'!$B$2" (sheet null when absent). */
export function parseRef(text) {
  const t = String(text).trim().replace(/#\d+$/, "");
  let sheet = null;
  let rest = t;
  const bang = t.lastIndexOf("!");
  if (bang >= 0) {
    sheet = t.slice(0, bang);
    rest = t.slice(bang + 1);
    if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  }
  const m = rest.replace(/\$/g, "").split(":")[0].match(/^([A-Za-z]{1,3})(\d+)$/);
  if (!m) return null;
  return { sheet, r: Number(m[2]), c: colNumber(m[1]), address: `${m[1].toUpperCase()}${m[2]}` };
}

/** Every cell of "Sheet!A1:B3" (capped), for highlighting ranges. */
export function areaCells(text, cap = 2000) {
  const t = String(text).trim();
  const bang = t.lastIndexOf("!");
  const sheetPart = bang >= 0 ? t.slice(0, bang) : null;
  const [a, b] = (bang >= 0 ? t.slice(bang + 1) : t).split(":");
  const p = parseRef(sheetPart ? `${sheetPart}!${a}` : a);
  const q = b ? parseRef(sheetPart ? `${sheetPart}!${b}` : b) : p;
  if (!p || !q) return [];
  const out = [];
  for (let r = Math.min(p.r, q.r); r <= Math.max(p.r, q.r); r++) {
    for (let c = Math.min(p.c, q.c); c <= Math.max(p.c, q.c); c++) {
      out.push({ sheet: p.sheet, r, c });
      if (out.length >= cap) return out;
    }
  }
  return out;
}
