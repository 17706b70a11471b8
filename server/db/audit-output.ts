/**
 * What a command printed, in the audit log: stored cut to AUDIT_OUTPUT_CHARS per stream
 * (a failed `cat` of a large file must not put megabytes in every audit page), and shown
 * to operators and admins only: output may hold what viewers should not read (file
 * contents, keepalived's config, paths). Both walk the stored JSON (error details, the
 * per-director results) and touch only `stdout` and `stderr` strings.
 */
export const AUDIT_OUTPUT_CHARS = 4096;

const OUTPUT_KEYS = new Set(["stdout", "stderr"]);

/** The marker that ends a cut output: how much was left out. */
export function cutMarker(omitted: number): string {
  return `\n[... cut: ${omitted} more characters not stored]`;
}

function mapJson(value: unknown, onOutput: (text: string) => string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => mapJson(v, onOutput));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (OUTPUT_KEYS.has(key) && typeof v === "string") {
      const mapped = onOutput(v);
      if (mapped !== undefined) out[key] = mapped;
    } else out[key] = mapJson(v, onOutput);
  }
  return out;
}

/** Every stdout and stderr cut to `max` characters, marked as cut. */
export function capOutput<T>(value: T, max = AUDIT_OUTPUT_CHARS): T {
  return mapJson(value, (text) =>
    text.length > max ? text.slice(0, max) + cutMarker(text.length - max) : text,
  ) as T;
}

/** The same JSON without any stdout or stderr: what viewers get. */
export function withoutOutput<T>(value: T): T {
  return mapJson(value, () => undefined) as T;
}
