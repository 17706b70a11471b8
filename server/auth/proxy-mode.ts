/**
 * The reverse-proxy header name, read straight from the config file for proxy.ts (which runs
 * apart from the app's modules and only makes the optimistic "might be signed in" check).
 * Re-read when the file changes.
 */
import { statSync, readFileSync } from "node:fs";
import { parse } from "yaml";

let cached: { file: string; mtimeMs: number; header: string | null } | null = null;

export function proxyHeaderName(
  file = process.env.LVS_CONSOLE_CONFIG || "lvs-console.yaml",
): string | null {
  try {
    const { mtimeMs } = statSync(/*turbopackIgnore: true*/ file);
    if (cached?.file === file && cached.mtimeMs === mtimeMs) return cached.header;
    const config = parse(readFileSync(/*turbopackIgnore: true*/ file, "utf8")) as {
      auth?: { proxyHeader?: { header?: unknown } };
    } | null;
    const header = config?.auth?.proxyHeader?.header;
    cached = { file, mtimeMs, header: typeof header === "string" ? header.toLowerCase() : null };
    return cached.header;
  } catch {
    return null;
  }
}
