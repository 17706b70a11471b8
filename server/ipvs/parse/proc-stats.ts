/**
 * /proc/net/ip_vs_stats: the director's totals and rates, in hexadecimal.
 *
 *    Total Incoming Outgoing         Incoming         Outgoing
 *    Conns  Packets  Packets            Bytes            Bytes
 *       99      33B      2AC             CF37             E5B4
 *
 *  Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
 *        1        4        3               EB              107
 */
import { type Counters, type Rates } from "@/server/ipvs/model";
import { fieldsAre, parseError, type SourceLine, sourceLines } from "./common";

const SOURCE = "/proc/net/ip_vs_stats";

export interface ProcStats {
  totals: Counters;
  rates: Rates;
}

export function parseProcStats(text: string): ProcStats {
  const lines = sourceLines(SOURCE, text);
  const lineAt = (index: number, title: readonly string[] | null): SourceLine => {
    const line = lines[index];
    if (line === undefined) {
      throw parseError(SOURCE, (lines.at(-1)?.lineNumber ?? 0) + 1, "", "the output ends early");
    }
    if (title === null) line.expectFieldCount(5, "a line of values");
    else if (!fieldsAre(line, title))
      throw line.error(`expected ${JSON.stringify(title.join(" "))}`);
    return line;
  };
  lineAt(0, ["Total", "Incoming", "Outgoing", "Incoming", "Outgoing"]);
  lineAt(1, ["Conns", "Packets", "Packets", "Bytes", "Bytes"]);
  const totals = lineAt(2, null);
  lineAt(3, ["Conns/s", "Pkts/s", "Pkts/s", "Bytes/s", "Bytes/s"]);
  const rates = lineAt(4, null);
  lines[5]?.fail("unexpected line after the rates");
  return {
    totals: {
      conns: totals.hexBigint(0, "Conns"),
      inPackets: totals.hexBigint(1, "incoming packets"),
      outPackets: totals.hexBigint(2, "outgoing packets"),
      inBytes: totals.hexBigint(3, "incoming bytes"),
      outBytes: totals.hexBigint(4, "outgoing bytes"),
    },
    rates: {
      cps: rates.hex(0, "Conns/s"),
      inPps: rates.hex(1, "incoming Pkts/s"),
      outPps: rates.hex(2, "outgoing Pkts/s"),
      inBps: rates.hex(3, "incoming Bytes/s"),
      outBps: rates.hex(4, "outgoing Bytes/s"),
    },
  };
}
