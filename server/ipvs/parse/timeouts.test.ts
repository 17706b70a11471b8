import { describe, expect, it } from "vitest";
import { parseTimeouts } from "./timeouts";
import { fixture, parseErrorOf } from "@/test/support/parse";

describe("parseTimeouts", () => {
  it("reads ipvsadm -L --timeout", () => {
    expect(parseTimeouts(fixture("ipvsadm-L--timeout.txt"))).toEqual({
      tcp: 900,
      tcpFin: 120,
      udp: 300,
    });
  });

  it("accepts CRLF and blank trailing lines", () => {
    expect(parseTimeouts("Timeout (tcp tcpfin udp): 7200 60 30\r\n\r\n")).toEqual({
      tcp: 7200,
      tcpFin: 60,
      udp: 30,
    });
  });

  it.each([
    ["an empty output", "", 1, ""],
    ["another line", "Timeout (tcp udp): 900 300", 1, "Timeout (tcp udp): 900 300"],
    [
      "a missing value",
      "Timeout (tcp tcpfin udp): 900 120",
      1,
      "Timeout (tcp tcpfin udp): 900 120",
    ],
    [
      "a non-numeric value",
      "Timeout (tcp tcpfin udp): 900 x 300",
      1,
      "Timeout (tcp tcpfin udp): 900 x 300",
    ],
    ["a second line", "Timeout (tcp tcpfin udp): 900 120 300\nmore", 2, "more"],
  ])("refuses %s", (_name, text, lineNumber, line) => {
    expect(parseErrorOf(() => parseTimeouts(text))).toMatchObject({
      code: "PARSE_ERROR",
      source: "ipvsadm -L --timeout",
      lineNumber,
      line,
    });
  });
});
