/** Thousands separators straight on the decimal digits: bigint never passes through Number. */
export function formatCount(n: bigint | number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const s = typeof n === "bigint" ? n.toString() : Math.round(n).toString();
  const neg = s.startsWith("-");
  const digits = neg ? s.slice(1) : s;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return neg ? `-${grouped}` : grouped;
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

/** Bytes per second in SI units with one decimal, fixed width friendly. */
export function formatByteRate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return "—";
  let v = bps;
  let i = 0;
  while (v >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${BYTE_UNITS[i]}/s`;
}

export function formatRate(n: number | null | undefined, unit: string): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return `${n >= 100 ? formatCount(n) : n.toFixed(n >= 10 ? 0 : 1)} ${unit}`;
}

export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : "—";
}

/**
 * Byte totals in SI units (1 kB = 1000 B) with one decimal: "18.9 kB", "1.2 TB". Exact
 * below 2^53 for the unit choice and the decimal; formatCount gives the exact value for
 * the hover text.
 */
export function formatBytes(n: bigint | number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  let v = typeof n === "bigint" ? Number(n) : n;
  if (!Number.isFinite(v)) return "—";
  let i = 0;
  while (Math.abs(v) >= 1000 && i < BYTE_TOTAL_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${BYTE_TOTAL_UNITS[i]}`;
}
const BYTE_TOTAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"] as const;

/** "18,862 bytes": the exact figure behind a formatBytes value. */
export function exactBytes(n: bigint | number | null | undefined): string | undefined {
  return n === null || n === undefined ? undefined : `${formatCount(n)} bytes`;
}

/** A connection's expiry as `ipvsadm -Lnc` prints it: minutes and seconds, "14:55", "120:00". */
export function formatExpiry(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** Times show in the browser's zone, or in UTC when the operator chose so (components/time-zone.tsx). */
export type TimeZoneChoice = "local" | "utc";

interface Parts {
  date: string;
  clock: string;
  zone: string;
}

function partsOf(ms: number, zone: TimeZoneChoice): Parts {
  const d = new Date(ms);
  const pad = (x: number) => String(x).padStart(2, "0");
  if (zone === "utc") {
    return {
      date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
      clock: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
      zone: "UTC",
    };
  }
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    clock: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
    zone: localZoneName(d),
  };
}

/**
 * The browser's short name for its zone at that instant ("CET", "GMT+1"), or its offset.
 * Kept per UTC offset: building an Intl formatter per call was the page's hottest function
 * (every clock on a big director's page, every second), and the name only changes with the offset.
 */
const zoneNames = new Map<number, string>();
function localZoneName(d: Date): string {
  const offset = -d.getTimezoneOffset();
  let name = zoneNames.get(offset);
  if (name === undefined) {
    name = intlZoneName(d) ?? offsetName(offset);
    zoneNames.set(offset, name);
  }
  return name;
}

function intlZoneName(d: Date): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" })
      .formatToParts(d)
      .find((p) => p.type === "timeZoneName")?.value;
  } catch {
    return undefined; // no Intl time zone data: the offset instead
  }
}

function offsetName(offset: number): string {
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** "2026-12-01 21:55:03 UTC", "2026-12-01 22:55:03 CET". */
export function formatDateTime(ms: number, zone: TimeZoneChoice = "local"): string {
  const p = partsOf(ms, zone);
  return `${p.date} ${p.clock} ${p.zone}`;
}

/** "21:55:03 UTC": for times of the last hours (polls, reads, stale since). */
export function formatClock(ms: number, zone: TimeZoneChoice = "local"): string {
  const p = partsOf(ms, zone);
  return `${p.clock} ${p.zone}`;
}
