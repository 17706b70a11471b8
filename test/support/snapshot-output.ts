/**
 * What the snapshot script prints, made from the captured fixtures of the lab director.
 * Test-only.
 */
import { readFileSync } from "node:fs";
import type { ReadRequest } from "@/server/live/snapshot-script";

export const fixture = (name: string) =>
  readFileSync(new URL(`../../server/ipvs/__fixtures__/${name}`, import.meta.url), "utf8");
export const MARK = "@@lvs-console:9c1f@@";

/** --thresholds output made from the --persistent-conn fixture (same services and members). */
function thresholdsFixture(): string {
  return fixture("ipvsadm-Ln--persistent-conn.txt")
    .split("\n")
    .map((line) => {
      if (line.startsWith("Prot "))
        return "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn";
      const m = /^ {2}-> (\S+)\s+\d+\s+\d+\s+(\d+)\s+(\d+)/.exec(line);
      if (!m) return line;
      const [upper, lower] = m[1] === "10.10.0.13:443" ? [100, 50] : [0, 0];
      return `  -> ${m[1]} ${upper} ${lower} ${m[2]} ${m[3]}`;
    })
    .join("\n");
}

/** --tun-info output made from the plain listing of the same capture. */
function tunInfoFixture(): string {
  return fixture("ipvsadm-Ln.txt")
    .split("\n")
    .map((line) => {
      if (line.startsWith("  -> RemoteAddress:Port"))
        return "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn";
      const m = /^ {2}-> (\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
      if (!m) return line;
      return `  -> ${m[1]} ${m[2]} ${m[2] === "Tunnel" ? "ipip" : "n/a"} ${m[3]} ${m[4]} ${m[5]}`;
    })
    .join("\n");
}

/** The grep section: every line prefixed with its file, as `grep -H ''` prints it. */
function filesSection(proc = fixture("proc-net-ip_vs.txt")): string {
  const procLines = proc
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => `/proc/net/ip_vs:${l}`);
  return [...procLines, ...fixture("sysctl-net-ipv4-vs.txt").replace(/\n$/, "").split("\n")].join(
    "\n",
  );
}

export function sections(
  parts: Record<string, string>,
  exitCodes: Record<string, number> = {},
): string {
  return Object.entries(parts)
    .map(
      ([name, text]) =>
        `${MARK} ${name}\n${text.replace(/\n$/, "")}\n${MARK} exit ${exitCodes[name] ?? 0}\n`,
    )
    .join("");
}

export interface OutputOptions {
  /** Version and timeouts (full reads only). */
  meta?: boolean;
  tunInfo?: boolean;
  proc?: string;
  persistent?: string;
}

/** What the script prints for a full or a light read of the captured director. */
export function pollOutput(kind: "full" | "light", options: OutputOptions = {}): string {
  const full = kind === "full";
  return sections({
    persistent: options.persistent ?? fixture("ipvsadm-Ln--persistent-conn.txt"),
    stats: fixture("ipvsadm-Ln--exact--stats.txt"),
    ...(full ? { files: filesSection(options.proc), thresholds: thresholdsFixture() } : {}),
    ...(full && options.tunInfo !== false ? { tuninfo: tunInfoFixture() } : {}),
    ...(full && options.meta !== false
      ? { version: fixture("ipvsadm--version.txt"), timeout: fixture("ipvsadm-L--timeout.txt") }
      : {}),
  });
}

/** The output for what a read asked the director for (the fake pools of the tests). */
export function outputFor(request: ReadRequest, options: OutputOptions = {}): string {
  return pollOutput(request.kind, { meta: request.meta, tunInfo: request.tunnels, ...options });
}
