import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { IpvsFailureKind } from "@/server/errors";
import { classifyIpvsadmFailure, exitClassOf } from "./errors";

interface Case {
  title: string;
  command: string;
  exitCode: number;
  stderr: string;
}

/**
 * The cases of errors.md: "## title" sections, each with one or more runs of a command,
 * an exit code and a fenced stderr. A section with several runs names them "title #n".
 */
function readCases(): Case[] {
  const text = readFileSync(new URL("./__fixtures__/errors.md", import.meta.url), "utf8");
  return text
    .split(/^## /m)
    .slice(1)
    .flatMap((section) => {
      const title = section.split("\n")[0]?.trim() ?? "";
      const runs = section.split(/^(?=command: )/m).slice(1);
      if (runs.length === 0) throw new Error(`errors.md section "${title}" has no command`);
      return runs.map((run, i) => {
        const command = /^command: `(.*)`/m.exec(run)?.[1];
        const exit = /^exit code: (\d+)/m.exec(run)?.[1];
        const stderr = /^stderr:\n```\n([\s\S]*?)```/m.exec(run)?.[1];
        if (command === undefined || exit === undefined || stderr === undefined) {
          throw new Error(
            `errors.md section "${title}" run ${i + 1} has no command, exit code or stderr`,
          );
        }
        return {
          title: runs.length > 1 ? `${title} #${i + 1}` : title,
          command,
          exitCode: Number(exit),
          stderr,
        };
      });
    });
}

/** What each failing case in errors.md must mean. */
const EXPECTED: Record<string, IpvsFailureKind> = {
  "add a service that already exists": "service-exists",
  "add a realserver that already exists": "destination-exists",
  "delete a service that does not exist": "no-such-service",
  "delete a realserver that does not exist": "no-such-destination",
  "delete a realserver from a service that does not exist": "service-not-defined",
  "edit a realserver that does not exist": "no-such-destination",
  "edit a service that does not exist": "no-such-service",
  "edit a fwmark service that does not exist": "no-such-service",
  "add a realserver to a service that does not exist": "service-not-defined",
  "list a service that does not exist": "no-such-service",
  "zero counters of a service that does not exist": "no-such-service",
  "invalid scheduler name": "scheduler-not-found",
  "invalid address (bad IPv4 literal)": "illegal-address",
  "invalid address (unresolvable host name)": "illegal-address",
  "invalid port": "illegal-address",
  "missing port on a TCP service": "zero-port",
  "invalid weight (negative)": "illegal-weight",
  "upper threshold below lower threshold": "out-of-range",
  "IPv4 realserver on an IPv6 service (masq)": "address-family",
  "unknown option": "unknown-option",
  "two commands at once": "usage",
  "persistence timeout 0": "invalid-timeout",
  "not root (uid 65534 via setpriv)": "permission-denied",
  "ipvsadm -R: a bad line in the middle": "illegal-weight",
  "ipvsadm -R: unknown command letter": "usage",
  "ipvsadm -R: bad scheduler": "scheduler-not-found",
  "IPVS not loaded and not loadable (recorded at boot by lab-init)": "ipvs-unavailable",
  "weight upper bound (follow-up, run by hand with the same ssh setup) #2": "illegal-weight",
  "list the connection table of one service (follow-up, run by hand with the same ssh setup)":
    "usage",
};

describe("classifyIpvsadmFailure on every case in errors.md", () => {
  const cases = readCases();
  const failing = cases.filter((c) => c.exitCode !== 0);

  it("knows what every failing case in the file means, and the file still has them all", () => {
    expect(failing.map((c) => c.title).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(failing.map((c) => [c.title, c] as const))("%s", (_title, c) => {
    const failure = classifyIpvsadmFailure(c.exitCode, c.stderr);
    expect(failure.kind).toBe(EXPECTED[c.title]);
    expect(failure.exitCode).toBe(c.exitCode);
    expect(failure.exitClass).toBe(exitClassOf(c.exitCode));
    expect(failure.stderr).toBe(c.stderr.trim());
    expect(failure.message).not.toBe("");
  });

  it("uses the exit code classes seen on the real kernel", () => {
    const byTitle = new Map(
      failing.map((c) => [c.title, classifyIpvsadmFailure(c.exitCode, c.stderr)]),
    );
    expect(byTitle.get("add a service that already exists")?.exitClass).toBe("kernel-refusal");
    expect(byTitle.get("invalid weight (negative)")?.exitClass).toBe("parse-error");
    expect(byTitle.get("list a service that does not exist")?.exitClass).toBe("not-found-on-list");
  });
});

describe("classifyIpvsadmFailure beyond the captured cases", () => {
  it("sudo without a password rule is a permission problem", () => {
    expect(classifyIpvsadmFailure(1, "sudo: a password is required\n").kind).toBe(
      "permission-denied",
    );
  });

  it("a missing ipvsadm binary means IPVS is unavailable", () => {
    const f = classifyIpvsadmFailure(127, "sh: 1: ipvsadm: not found\n");
    expect(f).toMatchObject({ kind: "ipvs-unavailable", exitClass: "other" });
  });

  it("anything else is unknown, with the first stderr line as its message", () => {
    expect(classifyIpvsadmFailure(255, "Memory allocation problem\nmore\n")).toMatchObject({
      kind: "unknown",
      exitClass: "kernel-refusal",
      message: "Memory allocation problem",
    });
    expect(classifyIpvsadmFailure(3, "").message).toBe("the command failed with exit code 3");
  });
});
