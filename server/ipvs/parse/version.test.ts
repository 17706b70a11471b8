import { describe, expect, it } from "vitest";
import { parseVersion } from "./version";
import { fixture, parseErrorOf } from "@/test/support/parse";

describe("parseVersion", () => {
  it("reads ipvsadm --version", () => {
    expect(parseVersion(fixture("ipvsadm--version.txt"))).toEqual({
      ipvsadm: "1.31",
      ipvs: "1.2.1",
      raw: "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)",
    });
  });

  it("reads a build with getopt_long", () => {
    expect(
      parseVersion("ipvsadm v1.26 2008/5/15 (compiled with getopt_long and IPVS v1.2.1)\r\n"),
    ).toEqual({
      ipvsadm: "1.26",
      ipvs: "1.2.1",
      raw: "ipvsadm v1.26 2008/5/15 (compiled with getopt_long and IPVS v1.2.1)",
    });
  });

  it.each([
    ["an empty output", "", 1, ""],
    ["another program", "ipvsctl 1.0", 1, "ipvsctl 1.0"],
    ["a missing IPVS version", "ipvsadm v1.31 2019/12/24", 1, "ipvsadm v1.31 2019/12/24"],
  ])("refuses %s", (_name, text, lineNumber, line) => {
    expect(parseErrorOf(() => parseVersion(text))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm --version",
      lineNumber,
      line,
    });
  });
});
