/**
 * Simulated directors for `npm run bench:fleet`: real OpenSSH sshd processes on loopback
 * ports, one per 10 directors (DIRECTORS_PER_SSHD), that answer the console's real remote
 * scripts. Each sshd forces every session into a shell (session.sh) where `ipvsadm` prints
 * output captured from the lab director (fixtures/, see its README) with the counters grown
 * since the start of the run, and `grep` serves the captured /proc/net/ip_vs and sysctls.
 * The console's SSH side is untouched: the directors are configured with a known_hosts
 * file holding the generated host keys, checked strictly.
 *
 * The host has no sshd account and no /run/sshd: each sshd runs in a mount namespace of
 * its own (unshare -m) where a copy of /etc/passwd with an `sshd` privilege-separation
 * user and a tmpfs /run are mounted, so nothing on the host changes; and in a PID
 * namespace of its own (a /proc of its ten directors' sessions, not the whole fleet's).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

const FIXTURES = join(import.meta.dirname, "fixtures");
/**
 * Each sshd serves this many directors, in a PID namespace of its own: the owner read scans
 * /proc for keepalived, and with every simulated director's sessions in one /proc (1,500
 * processes at 500 directors) that scan cost each director what a whole fleet would, and
 * the simulator's CPU grew with the square of the fleet.
 */
export const DIRECTORS_PER_SSHD = 10;

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
 * The stats listing with its counters grown `dt` seconds: each realserver at a rate
 * proportional to its captured count, each service the sum of its realservers, so rates
 * are steady and consistent. Written to a file once a second for every simulated director
 * (they all print the same listing): a director's `ipvsadm` is then one `cat`, as cheap
 * as the real one, and the 2-core host's CPU is left to the console under test.
 */
export function grownStats(captured: string, dt: number): string {
  const out: string[] = [];
  let service: string[] | null = null;
  let members: number[][] = [];
  const counters = (cols: string[]) => cols.slice(-5).map(Number);
  const num = (xs: number[]) => xs.map((x) => String(x).padStart(10)).join("");
  const flush = () => {
    if (!service) return;
    const sum = [0, 0, 0, 0, 0];
    for (const m of members) m.forEach((x, k) => (sum[k] = (sum[k] ?? 0) + x));
    out.push(`${`${service[0]}  ${service[1]}`.padEnd(33)}${num(sum)}`);
    out.push(...members.map((m, i) => `  -> ${(memberNames[i] ?? "").padEnd(26)}${num(m)}`));
    service = null;
    members = [];
    memberNames = [];
  };
  let memberNames: string[] = [];
  for (const line of captured.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (/^(TCP|UDP|FWM|SCTP) /.test(line)) {
      flush();
      service = cols;
    } else if (service && /^ {2}-> [0-9[]/.test(line)) {
      memberNames.push(cols[1] ?? "");
      members.push(counters(cols).map((v) => v + Math.floor((v * dt) / 30) + (v > 0 ? dt : 0)));
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join("\n");
}

/**
 * Writes one answer as `<base>.txt` (for `cat`) and `<base>.sh`, a script that prints it
 * with one printf: a session sources it. dash reads a file given to `.` in blocks but a
 * `read` loop one byte per system call: printing a poll's 7 kB that way took 2.6 ms of
 * CPU, 0.07 ms sourced (500 polls measured in one dash), and the fleet at 500 makes 250
 * polls a second. Each is written aside and renamed: a reader sees the old or the new.
 */
function writeOutput(base: string, text: string): void {
  const quoted = `'${text.replaceAll("'", `'\\''`)}'`;
  for (const [file, content] of [
    [`${base}.txt`, text],
    [`${base}.sh`, `printf '%s' ${quoted}\n`],
  ] as const) {
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
  }
}

/** What the simulated `ipvsadm` prints for each of the console's calls (a file in out/). */
const IPVSADM_FILES: Record<string, string> = {
  "-Ln --persistent-conn": "persistent",
  "-Ln --exact --stats": "stats-now",
  "-Ln --thresholds": "thresholds",
  "-Ln --tun-info": "tuninfo",
  "--version": "version",
  "-L --timeout": "timeout",
  "-L --daemon": "daemon",
  "-Ln": "list",
};

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

const AUTOGROUP = "/proc/sys/kernel/sched_autogroup_enabled";

/**
 * Makes the simulated directors' nice hold: with scheduler autogroups on (Debian's kernel
 * default) nice only ranks a process within its session's group, and sshd runs every
 * connection and every channel in a session of its own (setsid), so each director's are
 * groups of their own, weighted as nice 0 like the console's one group. Turns autogroups off
 * for the run (root only) and gives back the function that restores the setting, also run
 * on exit and on SIGINT/SIGTERM; null when they are off already or cannot be changed.
 */
export function autogroupsOffForRun(): { restore: () => void } | null {
  let before: string;
  try {
    before = readFileSync(AUTOGROUP, "utf8").trim();
    if (before === "0") return null;
    writeFileSync(AUTOGROUP, "0");
  } catch {
    return null;
  }
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      writeFileSync(AUTOGROUP, before);
    } catch {
      // reported by the caller's note; nothing else to do at exit
    }
  };
  process.once("exit", restore);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      restore();
      process.exit(130);
    });
  }
  return { restore };
}

/** Starts ceil(directors / 100) sshds on basePort, basePort + 1, ... (loopback only). */
export async function startSimFleet(options: {
  repoRoot: string;
  dir: string;
  directors: number;
  basePort: number;
  /** The simulated directors' niceness (default 19). */
  nice?: number;
}): Promise<SimFleet> {
  const { dir } = options;
  const sshd = findSshd(options.repoRoot);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "out"), { recursive: true });
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith(".txt")))
    writeOutput(join(dir, "out", f.slice(0, -4)), readFileSync(join(FIXTURES, f), "utf8"));
  const keygen = (file: string) =>
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-fleet", "-f", file]);
  keygen(join(dir, "client_key"));
  keygen(join(dir, "host_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const hostPub = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(" ");
  const t0 = Date.now();
  const stats = readFileSync(join(dir, "out", "stats.txt"), "utf8");
  const grow = () =>
    writeOutput(
      join(dir, "out", "stats-now"),
      grownStats(stats, Math.floor((Date.now() - t0) / 1000)),
    );
  grow();
  const grower = setInterval(grow, 1000);
  grower.unref();
  // The console's polls call ipvsadm twice (a full poll five times) and grep once: as
  // processes (a shell script that execs cat) they were much of the simulator's CPU, which
  // at 500 directors took 1.4 of the host's 2 cores from the console under test. A real
  // director runs them on its own CPU, so here they are shell functions (no fork, no exec),
  // loaded into every session (session.sh), that source the answer's printf script
  // (writeOutput). The same answers as scripts in bin/, for a caller that is not a session.
  const cases = Object.entries(IPVSADM_FILES).map(([args, f]) => [args, `${dir}/out/${f}`]);
  const unsupported = `echo "ipvsadm (simulated): unsupported: $*" >&2`;
  writeFileSync(
    join(dir, "sim.sh"),
    [
      `ipvsadm() {`,
      `  case "$*" in`,
      ...cases.map(([args, file]) => `    "${args}") . ${file}.sh ;;`),
      `    *) ${unsupported}; return 2 ;;`,
      `  esac`,
      `}`,
      `grep() {`,
      `  if [ "$3" = /proc/net/ip_vs ]; then . ${dir}/out/files.sh; else /usr/bin/grep "$@"; fi`,
      `}`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "bin", "ipvsadm"),
    [
      "#!/bin/sh",
      `case "$*" in`,
      ...cases.map(([args, file]) => `  "${args}") exec cat ${file}.txt ;;`),
      `esac`,
      `${unsupported}; exit 2`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  // The snapshot script's one grep of /proc/net/ip_vs and the sysctls (the host has no IPVS).
  writeFileSync(
    join(dir, "bin", "grep"),
    `#!/bin/sh\n[ "$3" = /proc/net/ip_vs ] && exec cat ${dir}/out/files.txt\nexec /usr/bin/grep "$@"\n`,
    { mode: 0o755 },
  );
  // Every session: /bin/sh with sim.sh loaded. The console's long-lived shell is its
  // command `exec /bin/sh` (server/ssh/frame.ts), which would start a shell without the
  // functions: this one reads the console's commands from stdin in its place (`.` of
  // /dev/stdin runs each command as it arrives).
  writeFileSync(
    join(dir, "session.sh"),
    [
      `PATH=${dir}/bin:/usr/bin:/bin; export PATH`,
      `. ${dir}/sim.sh`,
      `if [ "$SSH_ORIGINAL_COMMAND" = "exec /bin/sh" ]; then . /dev/stdin; exit; fi`,
      `eval "$SSH_ORIGINAL_COMMAND"`,
      "",
    ].join("\n"),
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
    clearInterval(grower);
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
          `ForceCommand exec /bin/sh ${dir}/session.sh`,
          "",
        ].join("\n"),
      );
      // Niced: on a real fleet the directors are other machines, their CPU is not the
      // console's; here they share its 2 cores, and at nice 0 their 1,000 sshd processes
      // starve the console's one thread of its turn (event-loop delays of seconds at 500
      // directors while the console used 0.35 cores). At nice 19 they get what is left,
      // once autogroups are off (autogroupsOffForRun).
      const child = spawn(
        "nice",
        [
          "-n",
          String(options.nice ?? 19),
          "unshare",
          "-m",
          "--propagation",
          "private",
          "--pid",
          "--fork",
          "--kill-child",
          "--mount-proc",
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
