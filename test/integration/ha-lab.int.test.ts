/**
 * The HA lab itself (lab.sh up --ha): a keepalived LVS-NAT pair whose VRRP, checkers, sync
 * daemon and failover are real. Uses the pair LVS_HA_LAB_NAME / LVS_HA_LAB_PORT (default
 * "ha" on 2230-2231), started here unless already running, so CI can share one pair.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureHaLab, labExec, stopLab, type HaLab } from "../../lab/harness";

const NAME = process.env.LVS_HA_LAB_NAME ?? "ha";
const PORT = Number(process.env.LVS_HA_LAB_PORT ?? 2230);
const VIPS = ["203.0.113.10/32", "203.0.113.11/32", "203.0.113.12/32"];
const DIP = "10.10.0.1/24";

let lab: HaLab;
const A = `${NAME}-a`;
const B = `${NAME}-b`;
const NET = `${NAME}-net`;

async function sh(guest: string, command: string): Promise<string> {
  const r = await labExec(guest, command);
  if (r.code !== 0) throw new Error(`${guest}: exit ${r.code}: ${command}\n${r.stderr}`);
  return r.stdout;
}

/** The floating addresses a director holds now (of the VIPs and the DIP). */
async function floating(guest: string): Promise<string[]> {
  const out = await sh(guest, "ip -4 -o addr show");
  return [...VIPS, DIP].filter((a) => out.includes(` ${a} `));
}

/** `lab-keepalived status`: instance -> state */
async function vrrpStates(guest: string): Promise<Record<string, string>> {
  const out = await sh(guest, "lab-keepalived status");
  const states: Record<string, string> = {};
  for (const m of out.matchAll(/^(VI_\w+) (\w+)$/gm)) {
    if (m[1] && m[2]) states[m[1]] = m[2];
  }
  return states;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until N-a is MASTER again (after a test stopped it), N-b BACKUP. */
async function backToNormal(): Promise<void> {
  await sh(A, "lab-keepalived start >/dev/null");
  for (let i = 0; i < 30; i++) {
    if ((await floating(A)).length === 4 && (await floating(B)).length === 0) return;
    await sleep(1000);
  }
  throw new Error(`${A} did not take the VIPs back`);
}

beforeAll(async () => {
  lab = await ensureHaLab({ name: NAME, port: PORT });
});

afterAll(async () => {
  try {
    await sh(NET, "lab-traffic stop >/dev/null");
    await sh(A, "rm -f /run/lab/rs-down/*");
    await backToNormal();
  } finally {
    if (lab.startedByUs) await stopLab(NAME);
  }
});

describe("the HA lab", () => {
  it("has N-a as MASTER holding the VIPs and the DIP, N-b as BACKUP holding none", async () => {
    expect(lab.directors.map((d) => [d.id, d.port])).toEqual([
      [A, PORT],
      [B, PORT + 1],
    ]);
    expect(await vrrpStates(A)).toEqual({ VI_PUB: "MASTER", VI_INT: "MASTER" });
    expect(await vrrpStates(B)).toEqual({ VI_PUB: "BACKUP", VI_INT: "BACKUP" });
    expect(await floating(A)).toEqual([...VIPS, DIP]);
    expect(await floating(B)).toEqual([]);
  });

  it("programs a TCP, a persistent, a UDP and a fwmark service from keepalived, and one from the rules file, on both", async () => {
    for (const d of [A, B]) {
      const rules = await sh(d, "ipvsadm -Sn");
      expect(rules).toContain("-A -t 203.0.113.10:80 -s rr -p 300");
      expect(rules).toContain("-A -t 203.0.113.10:8080 -s wrr");
      expect(rules).toContain("-A -u 203.0.113.10:53 -s sh");
      expect(rules).toContain("-A -f 1 -s wlc");
      expect(rules).toContain("-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w 3");
      expect(rules).toContain("-A -t 203.0.113.11:443 -s wlc");
      // the operator's files are writable, and keepalived accepts its config
      await sh(
        d,
        "test -w /etc/keepalived/keepalived.conf && test -w /etc/keepalived/conf.d/app.conf && test -w /etc/ipvsadm.rules && keepalived -t -f /etc/keepalived/keepalived.conf 2>/dev/null",
      );
    }
    const probe = await sh(NET, "lab-traffic probe --vip 203.0.113.12:80 --count 2");
    expect(probe.trim().split("\n")).toHaveLength(2);
    expect(probe).not.toMatch(/ -$/m);
  });

  it("runs the sync daemon (master on N-a, backup on N-b), so N-b's connection table fills", async () => {
    expect(await sh(A, "ipvsadm -L --daemon")).toMatch(/^master sync daemon \(mcast=br-int/m);
    expect(await sh(B, "ipvsadm -L --daemon")).toMatch(/^backup sync daemon \(mcast=br-int/m);
    await sh(
      NET,
      "lab-traffic hold --vip 203.0.113.10:8080 --from 203.0.113.107 --count 3 --seconds 40",
    );
    let synced = 0;
    for (let i = 0; i < 20 && synced < 3; i++) {
      const table = await sh(B, "ipvsadm -Lnc");
      synced = table
        .split("\n")
        .filter((l) => / ESTABLISHED +203\.0\.113\.107:\d+ +203\.0\.113\.10:8080 /.test(l)).length;
      if (synced < 3) await sleep(1000);
    }
    expect(synced).toBe(3);
  });

  it("forces a checker flap with the MISC_CHECK flag file (inhibit_on_failure keeps the member at weight 0)", async () => {
    const weight = async () => {
      const m = /-a -t 203\.0\.113\.11:9090 -r 10\.10\.0\.11:80 -m -w (\d+)/.exec(
        await sh(A, "ipvsadm -Sn"),
      );
      return m ? Number(m[1]) : undefined;
    };
    const waitFor = async (want: number) => {
      for (let i = 0; i < 20; i++) {
        if ((await weight()) === want) return want;
        await sleep(1000);
      }
      return weight();
    };
    await sh(A, "touch /run/lab/rs-down/10.10.0.11");
    expect(await waitFor(0)).toBe(0);
    await sh(A, "rm -f /run/lab/rs-down/10.10.0.11");
    expect(await waitFor(3)).toBe(3);
  });

  it("moves the VIPs and the DIP to N-b within seconds when keepalived stops on N-a, and client traffic keeps flowing", async () => {
    // requests every 50 ms for 10 s; wall clock = base + (uptime - base uptime)
    const watching = sh(
      NET,
      'echo base $(date +%s.%N) $(cut -d" " -f1 /proc/uptime); lab-traffic watch --vip 203.0.113.10:8080 --seconds 10 --interval-ms 50 --all-clients',
    );
    const moved = sh(
      B,
      'for i in $(seq 300); do a=$(ip -4 -o addr show); case $a in *" 203.0.113.10/32 "*" 10.10.0.1/24 "*) echo $(date +%s.%N); exit 0 ;; esac; sleep 0.02; done; exit 1',
    );
    await sleep(3000);
    const stoppedAt = Number((await sh(A, "date +%s.%N; lab-keepalived stop >/dev/null")).trim());
    const movedAt = Number((await moved).trim());
    const lines = (await watching).trim().split("\n");
    const [, baseWall, baseUptime] = (lines.shift() ?? "").split(" ").map(Number);
    const requests = lines.map((l) => {
      const [uptime, , rs] = l.split(" ");
      return { at: (baseWall ?? 0) + Number(uptime) - (baseUptime ?? 0), answered: rs !== "-" };
    });

    expect(movedAt - stoppedAt).toBeGreaterThan(0);
    expect(movedAt - stoppedAt).toBeLessThan(5);
    expect(await floating(B)).toEqual([...VIPS, DIP]);
    expect(await floating(A)).toEqual([]);
    expect(await vrrpStates(B)).toEqual({ VI_PUB: "MASTER", VI_INT: "MASTER" });
    const after = requests.filter((r) => r.at > movedAt);
    expect(after.length).toBeGreaterThan(20);
    expect(after.every((r) => r.answered)).toBe(true);
    const firstAnswered = requests.find((r) => r.at > stoppedAt && r.answered && r.at > movedAt);
    const lost = requests.filter((r) => !r.answered).length;
    process.stderr.write(
      `ha-lab failover: VIPs+DIP on ${B} ${(movedAt - stoppedAt).toFixed(2)} s after the stop; first request through it started ${((firstAnswered?.at ?? NaN) - stoppedAt).toFixed(2)} s after; ${lost} of ${requests.length} requests unanswered\n`,
    );

    await backToNormal();
    expect(await vrrpStates(A)).toEqual({ VI_PUB: "MASTER", VI_INT: "MASTER" });
  });
});
