/**
 * What a rules file that boot loads gets after a change: the running rules as
 * `ipvsadm-save -n` prints them, less the services keepalived owns (keepalived programs
 * those itself at start; loading them from the file too would fight it).
 *
 * Pure: the save output and keepalived's services come from the caller.
 */
import type { ServiceKey } from "@/server/ipvs/model";
import { serviceSaveArgs } from "./plan";

export function rulesFileText(save: string, keepalivedServices: readonly ServiceKey[]): string {
  const owned = new Set(keepalivedServices.map(serviceSaveArgs));
  const lines = save.split("\n").filter((line) => {
    const w = line.trim().split(/\s+/);
    if (w[0] !== "-A" && w[0] !== "-a") return line.trim() !== "";
    return !owned.has(`${w[1]} ${w[2]}`);
  });
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Where the kernel and the file disagree, compared line by line (order does not matter). */
export function rulesDiffer(fileText: string, wanted: string): boolean {
  const norm = (t: string) =>
    t
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .sort()
      .join("\n");
  return norm(fileText) !== norm(wanted);
}
