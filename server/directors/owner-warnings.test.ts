import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSaved } from "@/server/ipvs/parse/saved";
import { parseOwnerOutput } from "@/server/live/owner-script";
import { ownerInputs, ownerView } from "@/server/live/owner-view";
import { diffRules } from "@/server/ipvs/rule-diff";
import { attribute, OUTSIDE_CONSOLE } from "@/server/live/outside-changes";
import { undoWarnings } from "./owner-warnings";

// The HA lab MASTER's owner read (keepalived 2.2.7, conf.d includes, /etc/ipvsadm.rules).
const output = readFileSync(
  new URL("../live/__fixtures__/owner-read.ha-a.txt", import.meta.url),
  "utf8",
);
const app = (w11: number, w12 = 2) =>
  parseSaved(`-A -t 203.0.113.11:9090 -s rr
-a -t 203.0.113.11:9090 -r 10.10.0.11:80 -m -w ${w11}
-a -t 203.0.113.11:9090 -r 10.10.0.12:80 -m -w ${w12}
-A -t 203.0.113.11:443 -s wlc
-a -t 203.0.113.11:443 -r 10.10.0.13:443 -m -w 1
`);
const owner = (kernel: ReturnType<typeof app>) =>
  ownerView(ownerInputs(parseOwnerOutput(output), 1, 1), kernel);

describe("attribute: who made a change the console did not make", () => {
  it("keepalived, when it put the configured weight back", () => {
    const changes = diffRules(app(0).services, app(3).services);
    expect(attribute(changes, owner(app(3)))).toBe("keepalived");
  });

  it("outside the console, for a weight keepalived's config does not have", () => {
    const changes = diffRules(app(3).services, app(3, 5).services);
    expect(attribute(changes, owner(app(3, 5)))).toBe(OUTSIDE_CONSOLE);
  });

  it("outside the console, for a rule keepalived does not own", () => {
    const before = app(3).services;
    const after = before.map((s) =>
      s.key.kind === "tcp" && s.key.port === 443
        ? { ...s, realservers: s.realservers.map((r) => ({ ...r, weight: 0 })) }
        : s,
    );
    expect(attribute(diffRules(before, after), owner(app(3)))).toBe(OUTSIDE_CONSOLE);
  });

  it("outside the console without an owner view", () => {
    expect(attribute(diffRules(app(0).services, app(3).services), null)).toBe(OUTSIDE_CONSOLE);
  });
});

describe("undoWarnings: what will undo a runtime change, per director", () => {
  it("names keepalived and the weight it puts back", () => {
    expect(
      undoWarnings({
        directorId: "ha-a",
        owner: owner(app(3)),
        realserver: { address: "10.10.0.11", port: 80 },
        change: "weight",
      }).map((w) => [w.code, w.message]),
    ).toEqual([
      [
        "runtime-undo",
        "ha-a, TCP 203.0.113.11:9090 10.10.0.11:80: runtime only: keepalived will put weight 3 back when its checker recovers or it restarts",
      ],
    ]);
  });

  it("says a removal comes back when keepalived restarts", () => {
    expect(
      undoWarnings({
        directorId: "ha-a",
        owner: owner(app(3)),
        realserver: { address: "10.10.0.11", port: 80 },
        change: "remove",
      }).map((w) => w.message),
    ).toEqual([
      "ha-a, TCP 203.0.113.11:9090 10.10.0.11:80: runtime only: keepalived will add it back with weight 3 when it restarts",
    ]);
  });

  it("names the rules file for a rule it owns, and says nothing without an owner view", () => {
    expect(
      undoWarnings({
        directorId: "ha-a",
        owner: owner(app(3)),
        realserver: { address: "10.10.0.13" },
        change: "weight",
      }).map((w) => w.message),
    ).toEqual([
      "ha-a, TCP 203.0.113.11:443 10.10.0.13:443: runtime only: /etc/ipvsadm.rules puts weight 1 back at reboot",
    ]);
    expect(
      undoWarnings({
        directorId: "ha-a",
        owner: null,
        realserver: { address: "10.10.0.11" },
        change: "weight",
      }),
    ).toEqual([]);
  });
});
