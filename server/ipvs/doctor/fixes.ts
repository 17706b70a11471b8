/**
 * A director fix as commands: set the sysctls now (`sysctl -w`), then write them to a
 * sysctl.d file of the console's own, so a reboot or `sysctl --system` keeps them. Pure:
 * argv arrays, quoted only by server/ssh/quote.ts.
 */
import type { DirectorFixId } from "./types";

export const SYSCTL_D_DIR = "/etc/sysctl.d";

export function sysctlFilePath(id: DirectorFixId): string {
  // 99-: read after the distribution's files, so its values are the ones that last.
  return `${SYSCTL_D_DIR}/99-lvs-console-${id}.conf`;
}

/**
 * The key as sysctl(8) takes it: dotted, except that an interface name with a dot
 * (eth0.100) needs the slash form (net/ipv4/conf/eth0.100/send_redirects).
 */
export function sysctlArg(key: string): string {
  const m = /^net\.ipv4\.conf\.(.+)\.([a-z_]+)$/.exec(key);
  if (m && (m[1] ?? "").includes(".")) return `net/ipv4/conf/${m[1] ?? ""}/${m[2] ?? ""}`;
  return key;
}

const KEY = /^net\.ipv[46]\.(ip_forward|conf\.[A-Za-z0-9_.@-]{1,15}\.(send_redirects|forwarding))$/;

export interface FixPlan {
  steps: Array<{ argv: string[]; description: string }>;
  file: { path: string; content: string };
}

/** Throws on a key outside the doctor's two fixes (the settings come from a finding). */
export function directorFixPlan(
  id: DirectorFixId,
  settings: ReadonlyArray<{ key: string; value: number }>,
): FixPlan {
  for (const s of settings) {
    if (!KEY.test(s.key) || (s.value !== 0 && s.value !== 1))
      throw new RangeError(`the doctor does not set ${s.key}=${s.value}`);
  }
  const path = sysctlFilePath(id);
  const lines = [
    `# Written by LVS Console (doctor fix "${id}"). Edit it there, or delete it, knowingly.`,
    ...settings.map((s) => `${sysctlArg(s.key)} = ${s.value}`),
  ];
  return {
    steps: [
      {
        argv: ["sysctl", "-w", ...settings.map((s) => `${sysctlArg(s.key)}=${s.value}`)],
        description: "set now",
      },
      {
        // The script is fixed; the path and lines are its arguments. Written to a temp
        // file first and renamed, so a cut connection never leaves half a file.
        argv: [
          "sh",
          "-c",
          'f=$1; shift; printf "%s\\n" "$@" > "$f.tmp" && mv -f "$f.tmp" "$f"',
          "sh",
          path,
          ...lines,
        ],
        description: `make it last: write ${path}`,
      },
    ],
    file: { path, content: `${lines.join("\n")}\n` },
  };
}
