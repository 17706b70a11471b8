/**
 * The ipvsadm rules file a boot loads: Debian's /etc/ipvsadm.rules with AUTO in
 * /etc/default/ipvsadm, RHEL's /etc/sysconfig/ipvsadm (loaded by ipvsadm.service when it
 * is enabled, which the caller finds out). Pure: the texts come from the caller.
 */
import { isConsoleError } from "@/server/errors";
import { type RuleSet } from "@/server/ipvs/model";
import { parseSaved } from "@/server/ipvs/parse/saved";

/** Debian's /etc/default/ipvsadm: `AUTO="true"` makes the init script restore the rules. */
export function debianAutoLoads(defaultFile: string): boolean {
  let auto = false;
  for (const raw of defaultFile.split("\n")) {
    const m = /^\s*AUTO\s*=\s*(["']?)([^"'#\s]*)\1\s*(#.*)?$/.exec(raw);
    if (m !== null) auto = m[2] === "true";
  }
  return auto;
}

export interface RulesFile {
  path: string;
  bootLoads: boolean;
  /** null when the file does not parse (see `error`). */
  rules: RuleSet | null;
  error: string | null;
}

/** Reads an `ipvsadm-save -n` file; a file that does not parse is reported, never thrown. */
export function readRulesFile(path: string, text: string, bootLoads: boolean): RulesFile {
  try {
    return { path, bootLoads, rules: parseSaved(text), error: null };
  } catch (error) {
    if (!isConsoleError(error, "PARSE_ERROR")) throw error;
    return { path, bootLoads, rules: null, error: `${path}: ${error.message}` };
  }
}
