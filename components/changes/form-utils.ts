import type { z } from "zod";

/** "80" -> 80; anything that is not plain digits -> NaN, which the schemas reject with their own message. */
export function parseWhole(text: string): number {
  const t = text.trim();
  return /^\d{1,12}$/.test(t) ? Number(t) : Number.NaN;
}

/** zod issues keyed by their path below `prefix` (e.g. ["realserver"]): "port" -> message. */
export function fieldErrors(
  error: z.ZodError | undefined,
  prefix: readonly (string | number)[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!error) return out;
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (!prefix.every((p, i) => path[i] === String(p))) continue;
    const key = path.slice(prefix.length).join(".") || "_";
    out[key] ??= issue.message;
  }
  return out;
}
