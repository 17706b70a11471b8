/** `ipvsadm -L --timeout`: `Timeout (tcp tcpfin udp): 900 120 300`, in seconds. */
import { type IpvsTimeouts } from "@/server/ipvs/model";
import { requireNonEmpty, sourceLines, U32_MAX } from "./common";

const SOURCE = "ipvsadm -L --timeout";

export function parseTimeouts(text: string): IpvsTimeouts {
  const lines = sourceLines(SOURCE, text);
  const line = requireNonEmpty(SOURCE, lines);
  lines[1]?.fail("unexpected line after the timeouts");
  if (line.fields.slice(0, 4).join(" ") !== "Timeout (tcp tcpfin udp):") {
    throw line.error('expected "Timeout (tcp tcpfin udp): TCP TCPFIN UDP"');
  }
  line.expectFieldCount(7, "the timeout line");
  return {
    tcp: line.int(4, "tcp timeout", U32_MAX),
    tcpFin: line.int(5, "tcpfin timeout", U32_MAX),
    udp: line.int(6, "udp timeout", U32_MAX),
  };
}
