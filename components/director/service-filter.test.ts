import { describe, expect, it } from "vitest";
import { parseList } from "@/server/ipvs/parse/list";
import { fixture } from "@/test/support/parse";
import { formatServiceKey } from "@/server/ipvs/model";
import { serviceMatches } from "./service-filter";

// The lab director's services, from its captured `ipvsadm -Ln`.
const { services } = parseList(fixture("ipvsadm-Ln.txt"));
const names = (query: string) =>
  services.filter((s) => serviceMatches(s, query)).map((s) => formatServiceKey(s.key));

describe("serviceMatches (the director page's service filter)", () => {
  it("matches a service by its name: VIP, port, protocol", () => {
    expect(names(":8080")).toEqual(["TCP 203.0.113.10:8080"]);
    expect(names("fwm")).toEqual(["FWM 1"]);
    expect(names("203.0.113.11").length).toBeGreaterThan(0);
  });

  it("matches by a realserver, so every service a realserver is in is shown", () => {
    const withRs = names("10.10.0.13:443");
    expect(withRs.length).toBeGreaterThan(0);
    for (const name of withRs) {
      const s = services.find((x) => formatServiceKey(x.key) === name);
      expect(s?.realservers.some((r) => r.address === "10.10.0.13" && r.port === 443)).toBe(true);
    }
  });

  it("matches a scheduler only whole, and nothing for a query nothing has", () => {
    const rr = names(services[0]?.scheduler ?? "");
    expect(rr.length).toBeGreaterThan(0);
    expect(names("no-such-thing")).toEqual([]);
  });
});
