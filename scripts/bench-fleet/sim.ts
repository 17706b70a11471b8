/**
 * Simulated directors for `npm run bench:fleet`: real OpenSSH sshd processes on loopback
 * ports, one per 100 directors, that answer the console's real remote scripts. Each sshd
 * forces every session into `sh -c "$SSH_ORIGINAL_COMMAND"` with a PATH whose `ipvsadm`
 * prints output captured from the lab director (fixtures/, see its README) with the
 * counters grown since the start of the run, and whose `grep` serves the captured
 * /proc/net/ip_vs and sysctls. The console's SSH side is untouched: the directors are
 * configured with a known_hosts file holding the generated host keys, checked strictly.
 *
 * The host has no sshd account and no /run/sshd: each sshd runs in a mount namespace of
 * its own (unshare -m) where a copy of /etc/passwd with an `sshd` privilege-separation
 * user and a tmpfs /run are mounted, so nothing on the host changes.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

const FIXTURES = join(import.meta.dirname, "fixtures");
export const DIRECTORS_PER_SSHD = 100;

/** The sshd binary: $SSHD, the host's, or the one in the lab's Debian rootfs (npm run lab -- up). */
export function findSshd(repoRoot: string): string {
  const candidates = [process.env.SSHD, "/usr/sbin/sshd"];
  const cache = join(repoRoot, ".lab", "cache");
  if (existsSync(cache))
    for (const d of readdirSync(cache).filter((n) => n.startsWith("base-")))
      candidates.push(join(cache, d, "usr", "sbin", "sshd"));
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found)
    throw new Error(
      "no sshd: install openssh-server, set SSHD=/path/to/sshd, or run `npm run lab -- up` once (its rootfs has one)",
    );
  return found;
}

/**
 * ipvsadm as the simulated director answers it: one awk (the stub is exec'd, so one
 * process per call, as on a real director). Counters of the stats listing grow with the
 * seconds since `t0`, each realserver at a rate proportional to its captured count and
 * each service as the sum of its realservers, so rates are steady and consistent.
 */
const IPVSADM_AWK = `BEGIN {
  args = ""; for (i = 1; i < ARGC; i++) args = args (i > 1 ? " " : "") ARGV[i]
  f = ""
  if (args == "-Ln --persistent-conn") f = "persistent"
  else if (args == "-Ln --exact --stats") f = "stats"
  else if (args == "-Ln --thresholds") f = "thresholds"
  else if (args == "-Ln --tun-info") f = "tuninfo"
  else if (args == "--version") f = "version"
  else if (args == "-L --timeout") f = "timeout"
  else if (args == "-L --daemon") f = "daemon"
  else if (args == "-Ln") f = "list"
  if (f == "") { print "ipvsadm (simulated): unsupported: " args > "/dev/stderr"; exit 2 }
  srand(); dt = srand() - t0; if (dt < 0) dt = 0
  file = dir "/" f ".txt"; n = 0
  while ((getline line < file) > 0) lines[++n] = line
  if (f != "stats") { for (i = 1; i <= n; i++) print lines[i]; exit 0 }
  for (i = 1; i <= n; i++) {
    if (lines[i] ~ /^(TCP|UDP|FWM|SCTP) /) { flush(); svc = lines[i]; ns = 0; continue }
    if (lines[i] ~ /^  -> [0-9\\[]/ && svc != "") { rs[++ns] = grow(lines[i]); continue }
    flush(); print lines[i]
  }
  flush(); exit 0
}
function grow(l,   k, nf, parts, j) {
  nf = split(l, parts, " ")
  for (j = nf - 4; j <= nf; j++) { k = j - nf + 5; g[k] = parts[j] + int(parts[j] * dt / 30) + (parts[j] > 0 ? dt : 0) }
  return sprintf("  -> %-26s%10d%10d%10d%10d%10d", parts[2], g[1], g[2], g[3], g[4], g[5]) "|" g[1] "|" g[2] "|" g[3] "|" g[4] "|" g[5]
}
function flush(   j, k, sum, p, nf, parts) {
  if (svc == "") return
  for (k = 1; k <= 5; k++) sum[k] = 0
  for (j = 1; j <= ns; j++) { split(rs[j], p, "|"); for (k = 1; k <= 5; k++) sum[k] += p[k + 1] }
  nf = split(svc, parts, " ")
  printf "%-33s%10d%10d%10d%10d%10d\\n", parts[1] "  " parts[2], sum[1], sum[2], sum[3], sum[4], sum[5]
  for (j = 1; j <= ns; j++) { split(rs[j], p, "|"); print p[1] }
  svc = ""; ns = 0
}
`;

export interface SimEndpoint {
  host: string;
  port: number;
}

export interface SimFleet {
  endpoints: SimEndpoint[];
  knownHostsPath: string;
  privateKeyPath: string;
  user: string;
  /** The sshd processes (their sessions and commands are their descendants). */
  pids: number[];
  stop(): void;
}

function waitForBanner(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("data", (d) => {
        socket.destroy();
        if (d.toString().startsWith("SSH-")) resolve();
        else reject(new Error(`port ${port}: not an SSH banner`));
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${port} did not come up`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts ceil(directors / 100) sshds on basePort, basePort + 1, ... (loopback only). */
export async function startSimFleet(options: {
  repoRoot: string;
  dir: string;
  directors: number;
  basePort: number;
}): Promise<SimFleet> {
  const { dir } = options;
  const sshd = findSshd(options.repoRoot);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "out"), { recursive: true });
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith(".txt")))
    writeFileSync(join(dir, "out", f), readFileSync(join(FIXTURES, f)));
  const keygen = (file: string) =>
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-fleet", "-f", file]);
  keygen(join(dir, "client_key"));
  keygen(join(dir, "host_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const hostPub = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(" ");
  const t0 = Math.floor(Date.now() / 1000);
  writeFileSync(join(dir, "ipvsadm.awk"), IPVSADM_AWK);
  writeFileSync(
    join(dir, "bin", "ipvsadm"),
    `#!/bin/sh\nexec /usr/bin/awk -v dir=${dir}/out -v t0=${t0} -f ${dir}/ipvsadm.awk -- "$@"\n`,
    { mode: 0o755 },
  );
  // The snapshot script's one grep of /proc/net/ip_vs and the sysctls (the host has no IPVS).
  writeFileSync(
    join(dir, "bin", "grep"),
    `#!/bin/sh\n[ "$3" = /proc/net/ip_vs ] && exec cat ${dir}/out/files.txt\nexec /usr/bin/grep "$@"\n`,
    { mode: 0o755 },
  );
  // The doctor's reads (server/ipvs/doctor/script.ts) answered from its run on the lab
  // (fixtures/doctor-*.txt): on this host `ip`, the firewall dumps and the awk over
  // /proc/net/ip_vs_conn would read the host, and the port probes (bash's /dev/tcp) would
  // send SYNs to the lab's realserver addresses off the host. Answered, never sent.
  const stub = (name: string, body: string) =>
    writeFileSync(join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const out = (f: string) => `${dir}/out/doctor-${f}.txt`;
  stub(
    "ip",
    [
      `case "$*" in`,
      `  "-o addr show") exec cat ${out("addr")} ;;`,
      `  "-o route show") exec cat ${out("route")} ;;`,
      `  "-force -o -batch -") cat >/dev/null; exec cat ${out("routeget")} ;;`,
      `esac`,
      `echo "ip (simulated): unsupported: $*" >&2; exit 2`,
    ].join("\n"),
  );
  stub("iptables-save", `exec cat ${out("iptables")}`);
  stub("ip6tables-save", `exec cat ${out("ip6tables")}`);
  stub("nft", `exec cat ${out("nft")}`);
  stub(
    "awk",
    `for a; do last=$a; done\n[ "$last" = /proc/net/ip_vs_conn ] && exec cat ${out("conns")}\nexec /usr/bin/awk "$@"`,
  );
  stub("bash", `exec cat ${out("probes")}`);
  // root logs in with /bin/sh there: the host's root shell may read rc files (bash's
  // ~/.bashrc under sshd) that have nothing to do with a director and can be slow.
  const passwd = readFileSync("/etc/passwd", "utf8").replace(
    /^(root:[^\n]*:)[^:\n]*$/m,
    "$1/bin/sh",
  );
  writeFileSync(
    join(dir, "passwd"),
    /^sshd:/m.test(passwd) ? passwd : `${passwd}sshd:x:64999:65534::/run/sshd:/usr/sbin/nologin\n`,
  );

  const count = Math.ceil(options.directors / DIRECTORS_PER_SSHD);
  const children: ChildProcess[] = [];
  const knownHosts: string[] = [];
  const endpoints: SimEndpoint[] = [];
  const stop = () => {
    for (const c of children)
      if (c.pid !== undefined && c.exitCode === null) {
        try {
          process.kill(-c.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = options.basePort + i;
      const config = join(dir, `sshd_config.${port}`);
      writeFileSync(
        config,
        [
          `ListenAddress 127.0.0.1:${port}`,
          `HostKey ${dir}/host_key`,
          `AuthorizedKeysFile ${dir}/authorized_keys`,
          "PidFile none",
          "StrictModes no",
          "UsePAM no",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "PermitRootLogin prohibit-password",
          "AllowTcpForwarding no",
          "X11Forwarding no",
          "PrintMotd no",
          "MaxStartups 2000",
          "MaxSessions 64",
          "LogLevel ERROR",
          `ForceCommand PATH=${dir}/bin:/usr/bin:/bin exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`,
          "",
        ].join("\n"),
      );
      const child = spawn(
        "unshare",
        [
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          `mount --bind ${dir}/passwd /etc/passwd && mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec ${sshd} -D -e -f ${config}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"], detached: true },
      );
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => {
        if (stderr.length < 4000) stderr += d.toString();
      });
      children.push(child);
      await waitForBanner(port, 10_000).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}: ${stderr.trim()}`);
      });
      knownHosts.push(`[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}`);
      endpoints.push({ host: "127.0.0.1", port });
    }
  } catch (e) {
    stop();
    throw e;
  }
  const knownHostsPath = join(dir, "known_hosts");
  writeFileSync(knownHostsPath, `${knownHosts.join("\n")}\n`);
  return {
    endpoints,
    knownHostsPath,
    privateKeyPath: join(dir, "client_key"),
    user: "root",
    pids: children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    stop,
  };
}
