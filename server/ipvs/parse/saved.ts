/**
 * `ipvsadm -S -n`: one `-A` line per service followed by its `-a` lines, in the argv form
 * `ipvsadm -R` reads back. Options not printed take ipvsadm's defaults (scheduler wlc,
 * forwarding -g, weight 1, `-p` without a value = 300 s), as `ipvsadm -R` would apply them.
 *
 * ipvsadm 1.31 does not save thresholds (-x/-y): its print_service_entry prints only
 * `-a SVC -r RS FWD -w W` plus the tunnel options, so a RuleSet read from -Sn has
 * thresholds 0 even where they are set; read them from `ipvsadm -Ln --thresholds`.
 * -x and -y are still accepted here, for rule files written by hand or by later versions.
 */
import {
  type Endpoint,
  type ForwardMethod,
  PERSISTENCE_MAX,
  type RealserverRule,
  type RuleSet,
  sameEndpoint,
  sameServiceKey,
  type ServiceKey,
  type ServiceRule,
  WEIGHT_MAX,
} from "@/server/ipvs/model";
import {
  parseNetmask,
  parseSchedFlags,
  parseScheduler,
  type SourceLine,
  sourceLines,
  U32_MAX,
} from "./common";
import { type Tunnel } from "./list";

const SOURCE = "ipvsadm -Sn";
const DEFAULT_SCHEDULER = "wlc";
const DEFAULT_PERSISTENCE = 300;

type SavedService = RuleSet["services"][number];

/** Empty output is a valid, empty rule set: -Sn prints nothing when no service exists. */
export function parseSaved(text: string): RuleSet {
  const services: SavedService[] = [];
  for (const line of sourceLines(SOURCE, text)) {
    const command = line.fields[0];
    if (command === "-A" || command === "--add-service") {
      const rule = parseServiceCommand(line);
      if (services.some((s) => sameServiceKey(s.key, rule.key)))
        throw line.error("the service is defined twice");
      services.push({ ...rule, realservers: [] });
    } else if (command === "-a" || command === "--add-server") {
      const { key, realserver } = parseRealserverCommand(line);
      const service = services.find((s) => sameServiceKey(s.key, key));
      if (service === undefined) throw line.error("realserver of a service not defined above");
      if (service.realservers.some((r) => sameEndpoint(r, realserver))) {
        throw line.error("the realserver is defined twice");
      }
      service.realservers.push(realserver);
    } else {
      throw line.error("expected an -A or -a command");
    }
  }
  return { services };
}

/** Reads an argv one option at a time; each option may appear once. */
class Options {
  private index = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly line: SourceLine) {}

  next(): string | undefined {
    this.index += 1;
    const option = this.line.fields[this.index];
    if (option !== undefined) {
      if (this.seen.has(option)) throw this.line.error(`option ${option} is given twice`);
      this.seen.add(option);
    }
    return option;
  }

  value(option: string): string {
    this.index += 1;
    return this.line.field(this.index, `the value of ${option}`);
  }

  peek(): string | undefined {
    return this.line.fields[this.index + 1];
  }

  number(option: string, max: number, min = 0): number {
    const text = this.value(option);
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw this.line.error(
        `${option} ${JSON.stringify(text)} is not a whole number from ${min} to ${max}`,
      );
    }
    return Number(text);
  }
}

const SERVICE_OPTIONS: Record<string, "tcp" | "udp" | "sctp" | "fwm"> = {
  "-t": "tcp",
  "--tcp-service": "tcp",
  "-u": "udp",
  "--udp-service": "udp",
  "--sctp-service": "sctp",
  "-f": "fwm",
  "--fwmark-service": "fwm",
};

/** The service part of both commands: -t/-u/--sctp-service ADDR:PORT, or -f MARK [-6]. */
class ServiceSpec {
  private protocol: "tcp" | "udp" | "sctp" | "fwm" | null = null;
  private endpoint: Endpoint | null = null;
  private mark = 0;
  private ipv6 = false;

  constructor(private readonly line: SourceLine) {}

  /** Consumes the option when it belongs to the service part; false otherwise. */
  take(option: string, options: Options): boolean {
    const protocol = SERVICE_OPTIONS[option];
    if (protocol !== undefined) {
      if (this.protocol !== null) throw this.line.error("more than one service is given");
      this.protocol = protocol;
      if (protocol === "fwm") this.mark = options.number(option, U32_MAX, 1);
      else this.endpoint = this.line.endpointOf(options.value(option), "virtual address");
      return true;
    }
    if (option === "-6" || option === "--ipv6") {
      this.ipv6 = true;
      return true;
    }
    return false;
  }

  key(): ServiceKey {
    if (this.protocol === null)
      throw this.line.error("no service (-t, -u, --sctp-service or -f) is given");
    if (this.protocol === "fwm") {
      return { kind: "fwm", mark: this.mark, family: this.ipv6 ? "inet6" : "inet" };
    }
    if (this.ipv6) throw this.line.error("-6 applies to firewall-mark services only");
    if (this.endpoint === null) throw this.line.error("no virtual address is given");
    return { kind: this.protocol, ...this.endpoint };
  }
}

function parseServiceCommand(line: SourceLine): ServiceRule {
  const spec = new ServiceSpec(line);
  const options = new Options(line);
  let scheduler = parseScheduler(line, DEFAULT_SCHEDULER);
  let timeout: number | null = null;
  let netmaskText: string | null = null;
  let ops = false;
  let schedFlags: ServiceRule["schedFlags"] = [];
  let pe: string | null = null;

  for (let option = options.next(); option !== undefined; option = options.next()) {
    if (spec.take(option, options)) continue;
    switch (option) {
      case "-s":
      case "--scheduler":
        scheduler = parseScheduler(line, options.value(option));
        break;
      case "-p":
      case "--persistent":
        // The timeout is optional: the next word is the timeout only when it is a number.
        timeout = /^\d+$/.test(options.peek() ?? "")
          ? options.number(option, PERSISTENCE_MAX, 1)
          : DEFAULT_PERSISTENCE;
        break;
      case "-M":
      case "--netmask":
        netmaskText = options.value(option);
        break;
      case "-o":
      case "--ops":
        ops = true;
        break;
      case "-b":
      case "--sched-flags":
        schedFlags = parseSchedFlags(line, options.value(option));
        break;
      case "--pe":
        pe = options.value(option);
        if (!/^[a-z]{1,16}$/.test(pe))
          throw line.error(`persistence engine ${JSON.stringify(pe)} is not a name`);
        break;
      default:
        throw line.error(`unknown option ${JSON.stringify(option)} for a service`);
    }
  }

  const key = spec.key();
  if (netmaskText !== null && timeout === null) throw line.error("-M is given without -p");
  const persistence =
    timeout === null
      ? null
      : { timeout, netmask: netmaskText === null ? null : parseNetmask(line, netmaskText) };
  return { key, scheduler, persistence, ops, schedFlags, pe };
}

function parseRealserverCommand(line: SourceLine): { key: ServiceKey; realserver: RealserverRule } {
  const spec = new ServiceSpec(line);
  const options = new Options(line);
  let endpoint: Endpoint | null = null;
  let forward: ForwardMethod | null = null;
  let weight = 1;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let tunnelType: Tunnel["type"] | null = null;
  let tunnelPort: number | null = null;
  let noChecksum: boolean | null = null;

  for (let option = options.next(); option !== undefined; option = options.next()) {
    if (spec.take(option, options)) continue;
    switch (option) {
      case "-r":
      case "--real-server":
        endpoint = line.endpointOf(options.value(option), "realserver address");
        break;
      case "-m":
      case "--masquerading":
      case "-g":
      case "--gatewaying":
      case "-i":
      case "--ipip":
        if (forward !== null) throw line.error("more than one forwarding method is given");
        forward = FORWARD_OPTIONS[option] ?? line.fail(`unknown forwarding option ${option}`);
        break;
      case "-w":
      case "--weight":
        weight = options.number(option, WEIGHT_MAX);
        break;
      case "-x":
      case "--u-threshold":
        upperThreshold = options.number(option, U32_MAX);
        break;
      case "-y":
      case "--l-threshold":
        lowerThreshold = options.number(option, U32_MAX);
        break;
      case "--tun-type": {
        const type = options.value(option);
        if (type !== "ipip" && type !== "gue" && type !== "gre") {
          throw line.error(`unknown tunnel type ${JSON.stringify(type)}`);
        }
        tunnelType = type;
        break;
      }
      case "--tun-port":
        tunnelPort = options.number(option, 65535, 1);
        break;
      case "--tun-nocsum":
      case "--tun-csum":
        if (noChecksum !== null) throw line.error("more than one tunnel checksum option is given");
        noChecksum = option === "--tun-nocsum";
        break;
      case "--tun-remcsum":
        // Remote checksum offload has no place in the model: refuse rather than misreport.
        throw line.error("--tun-remcsum is not supported");
        break;
      default:
        throw line.error(`unknown option ${JSON.stringify(option)} for a realserver`);
    }
  }

  const key = spec.key();
  if (endpoint === null) throw line.error("no realserver (-r) is given");
  const method = forward ?? "route";
  let tunnel: Tunnel | null = null;
  if (method === "tunnel") {
    tunnel = { type: tunnelType ?? "ipip", port: tunnelPort, noChecksum: noChecksum ?? false };
  } else if (tunnelType !== null || tunnelPort !== null || noChecksum !== null) {
    throw line.error("tunnel options on a realserver that is not tunnelled (-i)");
  }
  return {
    key,
    realserver: { ...endpoint, forward: method, weight, upperThreshold, lowerThreshold, tunnel },
  };
}

const FORWARD_OPTIONS: Record<string, ForwardMethod> = {
  "-m": "masq",
  "--masquerading": "masq",
  "-g": "route",
  "--gatewaying": "route",
  "-i": "tunnel",
  "--ipip": "tunnel",
};
