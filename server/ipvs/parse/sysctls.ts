/**
 * The sysctls under net.ipv4.vs, from `grep -r . /proc/sys/net/ipv4/vs/` (`PATH:VALUE`,
 * vectors tab-separated: `sync_threshold:3\t50`) or from `sysctl net.ipv4.vs`
 * (`net.ipv4.vs.NAME = VALUE`).
 */
import { type IpvsSysctls } from "@/server/ipvs/model";
import { requireNonEmpty, sourceLines } from "./common";

const SOURCE = "net.ipv4.vs sysctls";

/**
 * Sysctls whose value is not a vector of integers (est_cpulist, Linux 6.2+, holds a CPU
 * list like "0-3"). The console sets none of them; they are skipped by name, while any
 * other value that is not numbers is an error.
 */
export const NON_NUMERIC_SYSCTLS: readonly string[] = ["est_cpulist"];

export function parseSysctls(text: string): IpvsSysctls {
  const lines = sourceLines(SOURCE, text);
  requireNonEmpty(SOURCE, lines);
  const result: IpvsSysctls = {};
  for (const line of lines) {
    const match =
      /^\/proc\/sys\/net\/ipv4\/vs\/([a-z0-9_]+):(.*)$/.exec(line.text) ??
      /^net\.ipv4\.vs\.([a-z0-9_]+)\s*=(.*)$/.exec(line.text);
    const name = match?.[1];
    const value = match?.[2];
    if (name === undefined || value === undefined)
      throw line.error("expected PATH:VALUE or net.ipv4.vs.NAME = VALUE");
    if (Object.hasOwn(result, name)) throw line.error(`${name} is listed twice`);
    if (NON_NUMERIC_SYSCTLS.includes(name)) continue;
    const words = value.trim().split(/\s+/);
    if (!words.every((word) => /^-?\d+$/.test(word)))
      throw line.error(`the value of ${name} is not integers`);
    result[name] = words.map(Number);
  }
  return result;
}
