// Number, duration and time formatting for display (the raw value stays on the server).

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function integer(n) {
  return n === null || n === undefined ? "—" : grouped.format(n);
}

/** A readable number: integers grouped, others to `digits` significant figures. */
export function number(x, digits = 6) {
  if (x === null || x === undefined) return "—";
  if (typeof x !== "number") return String(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return grouped.format(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-4)) return x.toExponential(digits - 1);
  return new Intl.NumberFormat("en-US", { maximumSignificantDigits: digits }).format(x);
}

/** A compact axis label: 1.2k, 3.4M, 0.05. */
export function compact(x) {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && abs < 1e-3) return x.toExponential(0);
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumSignificantDigits: 3 }).format(x);
}

export function percent(fraction, digits = 0) {
  if (fraction === null || fraction === undefined) return "—";
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** 0.4 s, 42 s, 3 min 05 s, 2 h 07 min. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function rate(perSecond, unit) {
  if (perSecond === null || perSecond === undefined) return "—";
  return `${number(perSecond, 3)} ${unit}/s`;
}

export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function shortId(id) {
  return String(id).slice(0, 8);
}
