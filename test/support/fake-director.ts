/**
 * A fake cluster for unit tests of changes and drains: directors hold ServiceState in
 * memory and interpret the ipvsadm/sysctl argv the planner produces, with the real
 * kernel's `-e` semantics (an option not given falls back to its default).
 */
import { createHash } from "node:crypto";
import type { ClusterConfig, DirectorConfig } from "@/server/config";
import { ConsoleError } from "@/server/errors";
import {
  sameServiceKey,
  type ForwardMethod,
  type IpvsSysctls,
  type RealserverState,
  type ServiceKey,
  type ServiceState,
} from "@/server/ipvs/model";
import type { DirectorSnapshot, DirectorStatus } from "@/server/live/types";
import { rulesOf } from "@/server/ipvs/rules";
import type { DirectorIo, ExecOutcome, LockedRun } from "@/server/directors/io";

export interface FakeDirector {
  config: DirectorConfig;
  services: ServiceState[];
  sysctls: IpvsSysctls;
  commands: string[][];
  /** Return a failure for this argv instead of running it. */
  failWith?: (argv: string[]) => ExecOutcome | null;
  /** Runs once the rules were read under the lock, before the gate: someone else's edit. */
  whileLocked?: (director: FakeDirector) => void;
  /** Another holder of the director's lock: the apply gives up (lock-busy). */
  lockHeld?: boolean;
  /** Runs after each successful command: simulate someone (or something) else. */
  afterExec?: (argv: string[], director: FakeDirector) => void;
  unreachable?: boolean;
}

export function directorConfig(id: string, clusterId: string): DirectorConfig {
  return {
    id,
    clusterId,
    host: "127.0.0.1",
    port: 22,
    user: "root",
    sudo: false,
    agent: true,
  };
}

export function member(
  address: string,
  port: number,
  weight: number,
  extra: Partial<RealserverState> = {},
): RealserverState {
  return {
    address,
    port,
    forward: "masq",
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnel: null,
    activeConns: 0,
    inactiveConns: 0,
    persistentConns: 0,
    counters: null,
    rates: null,
    ...extra,
  };
}

/** The lab's TCP 203.0.113.10:80 (rr, persistent 300) and :8080 (wrr). */
export function labServices(): ServiceState[] {
  return [
    {
      key: { kind: "tcp", address: "203.0.113.10", port: 80 },
      scheduler: "rr",
      persistence: { timeout: 300, netmask: null },
      ops: false,
      schedFlags: [],
      pe: null,
      counters: null,
      rates: null,
      realservers: [
        member("10.10.0.11", 80, 1, { upperThreshold: 100, lowerThreshold: 50 }),
        member("10.10.0.12", 80, 1),
        member("10.10.0.13", 80, 1),
      ],
    },
    {
      key: { kind: "tcp", address: "203.0.113.10", port: 8080 },
      scheduler: "wrr",
      persistence: null,
      ops: false,
      schedFlags: [],
      pe: null,
      counters: null,
      rates: null,
      realservers: [
        member("10.10.0.11", 80, 3),
        member("10.10.0.12", 80, 2),
        member("10.10.0.13", 80, 0),
      ],
    },
  ];
}

export function versionOf(services: ServiceState[]): string {
  return createHash("sha256")
    .update(JSON.stringify(rulesOf(services)))
    .digest("hex")
    .slice(0, 16);
}

export class FakeCluster implements DirectorIo {
  readonly directors = new Map<string, FakeDirector>();

  constructor(
    readonly id: string,
    directorIds: string[],
  ) {
    for (const d of directorIds) {
      this.directors.set(d, {
        config: directorConfig(d, id),
        services: labServices(),
        sysctls: { expire_quiescent_template: [0], expire_nodest_conn: [0] },
        commands: [],
      });
    }
  }

  director(id: string): FakeDirector {
    const d = this.directors.get(id);
    if (!d) throw new Error(`no fake director ${id}`);
    return d;
  }

  getCluster(clusterId: string): ClusterConfig {
    if (clusterId !== this.id) throw new ConsoleError("NOT_FOUND", `no cluster ${clusterId}`);
    return {
      id: this.id,
      name: this.id,
      directors: [...this.directors.values()].map((d) => d.config),
    };
  }

  snapshotOf(id: string): DirectorSnapshot {
    const d = this.director(id);
    return {
      directorId: id,
      clusterId: this.id,
      version: versionOf(d.services),
      takenAt: Date.now(),
      services: structuredClone(d.services),
      sysctls: structuredClone(d.sysctls),
      ipvsadm: null,
      timeouts: null,
      connectionCount: 0,
    };
  }

  versions(): Record<string, string> {
    return Object.fromEntries(
      [...this.directors.keys()].map((id) => [id, versionOf(this.director(id).services)]),
    );
  }

  readSnapshot(director: DirectorConfig): Promise<DirectorSnapshot> {
    const d = this.director(director.id);
    if (d.unreachable)
      return Promise.reject(new ConsoleError("UNREACHABLE", `${director.id} is unreachable`));
    return Promise.resolve(this.snapshotOf(director.id));
  }

  /** A poller every 10 ms. */
  watch(director: DirectorConfig, listener: (status: DirectorStatus) => void): () => void {
    const timer = setInterval(() => {
      const snapshot = this.snapshotOf(director.id);
      listener({
        directorId: director.id,
        clusterId: this.id,
        reachability: "live",
        snapshot,
        error: null,
        lastSuccessAt: snapshot.takenAt,
        nextRetryAt: null,
      });
    }, 10);
    return () => clearInterval(timer);
  }

  /** The apply script's contract: read under the lock, ask the gate, run until a failure, read again. */
  async applyLocked(
    director: DirectorConfig,
    steps: readonly string[][],
    gate: (locked: DirectorSnapshot) => Promise<boolean>,
  ): Promise<LockedRun> {
    const d = this.director(director.id);
    if (d.unreachable) throw new ConsoleError("UNREACHABLE", `${director.id} is unreachable`);
    const run: LockedRun = {
      result: "lock-busy",
      lockWaitMs: null,
      locked: null,
      steps: [],
      after: null,
      stderr: "",
    };
    if (d.lockHeld) return run;
    run.lockWaitMs = 0;
    d.whileLocked?.(d);
    run.locked = this.snapshotOf(director.id);
    if (!(await gate(run.locked))) return { ...run, result: "aborted" };
    for (const argv of steps) {
      const out = await this.exec(director, [...argv]);
      run.steps.push({ exitCode: out.exitCode, stderr: out.stderr });
      if (out.exitCode !== 0) break;
    }
    return { ...run, result: "done", after: this.snapshotOf(director.id) };
  }

  exec(director: DirectorConfig, argv: string[]): Promise<ExecOutcome> {
    const d = this.director(director.id);
    if (d.unreachable)
      return Promise.reject(new ConsoleError("UNREACHABLE", `${director.id} is unreachable`));
    d.commands.push(argv);
    const failure = d.failWith?.(argv);
    if (failure) return Promise.resolve(failure);
    const outcome = run(d, argv);
    if (outcome.exitCode === 0) d.afterExec?.(argv, d);
    return Promise.resolve(outcome);
  }
}

const ok: ExecOutcome = { stdout: "", stderr: "", exitCode: 0 };
const refused = (stderr: string): ExecOutcome => ({
  stdout: "",
  stderr: `${stderr}\n`,
  exitCode: 255,
});

function parseService(argv: string[], i: number): ServiceKey {
  const flag = argv[i];
  const value = argv[i + 1] ?? "";
  if (flag === "-f") return { kind: "fwm", mark: Number(value), family: "inet" };
  const [address = "", port = "0"] = value.split(":");
  return { kind: flag === "-u" ? "udp" : "tcp", address, port: Number(port) };
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function run(d: FakeDirector, argv: string[]): ExecOutcome {
  if (argv[0] === "sysctl") {
    const [name = "", value = ""] = (argv[2] ?? "").replace("net.ipv4.vs.", "").split("=");
    d.sysctls[name] = [Number(value)];
    return { ...ok, stdout: `${argv[2]?.replace("=", " = ")}\n` };
  }
  const op = argv[1];
  const key = parseService(argv, 2);
  const svc = d.services.find((s) => sameServiceKey(s.key, key));
  const [address = "", port = "0"] = (option(argv, "-r") ?? "").split(":");
  const forward: ForwardMethod = argv.includes("-m")
    ? "masq"
    : argv.includes("-i")
      ? "tunnel"
      : "route";
  const rule = {
    address,
    port: Number(port),
    forward,
    weight: Number(option(argv, "-w") ?? 1),
    upperThreshold: Number(option(argv, "-x") ?? 0),
    lowerThreshold: Number(option(argv, "-y") ?? 0),
  };
  switch (op) {
    case "-e": {
      if (!svc) return refused("No such service");
      const i = svc.realservers.findIndex((r) => r.address === address && r.port === rule.port);
      const current = svc.realservers[i];
      if (!current) return refused("No such destination");
      svc.realservers[i] = { ...current, ...rule };
      return ok;
    }
    case "-a": {
      if (!svc) return refused("Service not defined");
      if (svc.realservers.some((r) => r.address === address && r.port === rule.port))
        return refused("Destination already exists");
      svc.realservers.push(member(address, rule.port, rule.weight, rule));
      return ok;
    }
    case "-d": {
      if (!svc) return refused("Service not defined");
      const before = svc.realservers.length;
      svc.realservers = svc.realservers.filter(
        (r) => !(r.address === address && r.port === rule.port),
      );
      return before === svc.realservers.length ? refused("No such destination") : ok;
    }
    default:
      return { stdout: "", stderr: `fake ipvsadm: ${op} not simulated\n`, exitCode: 2 };
  }
}
