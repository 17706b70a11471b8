/**
 * npm run big-director -- up|down [--traffic]: loads the lab director (LVS_LAB_NAME /
 * LVS_LAB_PORT, default `lab` on 2222) with 200 more virtual services and 1,000
 * realservers, in one `ipvsadm-restore` over the lab's ssh, for the UI bench
 * (bench-ui.ts --big-director) and for trying the console at that size by hand.
 *
 * - 200 services on the lab's VIP 203.0.113.10, ports 20000-20199 (TCP; every 10th UDP),
 *   schedulers rr/wrr/wlc/sh in turn, every 4th persistent (300 s);
 * - 5 realservers each (1,000 in all): every 10th service has the lab's three real
 *   realservers 10.10.0.11-13:80 (so a realserver serves in 20 places) plus two that do
 *   not exist; the others five of 10.20.0.0/16, port 80, weights 1-5;
 * - with --traffic, steady new connections (lab-traffic steady, 5/s) on three of the
 *   services with real realservers, until `down`.
 * `ipvsadm -R` starts from an empty table, so `up` replaces the lab's own rules and `down`
 * puts them back (the guest's /usr/local/lib/lab/ipvsadm-rules.txt) and stops the traffic.
 */
import { labExec } from "../lab/harness";

/** The lab `npm run big-director` loads; bench:ui passes its own. */
const DEFAULT_LAB = process.env.LVS_LAB_NAME ?? "lab";
export const BIG_SERVICES = 200;
export const BIG_REALSERVERS_PER_SERVICE = 5;
export const BIG_VIP = "203.0.113.10";
export const BIG_FIRST_PORT = 20000;
const SCHEDULERS = ["rr", "wrr", "wlc", "sh"];
/** Services with the real realservers that get traffic (their index). */
export const BIG_TRAFFIC = [0, 10, 20];

function service(i: number): { flag: "-t" | "-u"; key: string } {
  return { flag: i % 10 === 5 ? "-u" : "-t", key: `${BIG_VIP}:${BIG_FIRST_PORT + i}` };
}

/** The ipvsadm-restore input of the 200 services. */
export function bigRules(): string {
  const lines: string[] = [];
  for (let i = 0; i < BIG_SERVICES; i++) {
    const { flag, key } = service(i);
    const persistent = i % 4 === 0 ? " -p 300" : "";
    lines.push(`-A ${flag} ${key} -s ${SCHEDULERS[i % SCHEDULERS.length]}${persistent}`);
    const real = i % 10 === 0;
    for (let r = 0; r < BIG_REALSERVERS_PER_SERVICE; r++) {
      const n = i * BIG_REALSERVERS_PER_SERVICE + r;
      const address =
        real && r < 3 ? `10.10.0.${11 + r}` : `10.20.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      lines.push(`-a ${flag} ${key} -r ${address}:80 -m -w ${(r % 5) + 1}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

async function lab(command: string, input?: string, name = DEFAULT_LAB): Promise<string> {
  const r = await labExec(name, command, { timeoutMs: 120_000, ...(input ? { input } : {}) });
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function bigDirectorDown(name = DEFAULT_LAB): Promise<void> {
  await lab(
    "lab-traffic stop >/dev/null 2>&1; ipvsadm -C && ipvsadm -R < /usr/local/lib/lab/ipvsadm-rules.txt",
    undefined,
    name,
  );
}

export async function bigDirectorUp(traffic: boolean, name = DEFAULT_LAB): Promise<void> {
  await lab("lab-traffic stop >/dev/null 2>&1; ipvsadm -C && ipvsadm-restore", bigRules(), name);
  if (traffic)
    for (const i of BIG_TRAFFIC)
      await lab(
        `lab-traffic steady --vip ${service(i).key} --rate 5 --seconds 0 --all-clients`,
        undefined,
        name,
      );
}

async function main(): Promise<void> {
  const [command] = process.argv.slice(2);
  if (command === "up") await bigDirectorUp(process.argv.includes("--traffic"));
  else if (command === "down") await bigDirectorDown();
  else throw new Error("usage: big-director.ts up [--traffic] | down");
  const services = (await lab("ipvsadm -Ln | grep -cE '^(TCP|UDP|FWM)'")).trim();
  const realservers = (await lab("ipvsadm -Ln | grep -c -- '->.*[0-9]'")).trim();
  console.log(`${DEFAULT_LAB}: ${services} services, ${realservers} realservers`);
}

if (process.argv[1]?.endsWith("big-director.ts"))
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
