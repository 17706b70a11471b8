/**
 * The IPVS connection table, as `ipvsadm -Lnc [--persistent-conn]` prints it and as the
 * kernel writes /proc/net/ip_vs_conn (which ipvsadm itself reads to print -c).
 *
 * Persistence templates have client port 0 (state NONE or ASSURED); with a persistence
 * netmask the client is the masked network (203.0.113.0:0). A template of a firewall-mark
 * service has protocol IP and ports 0, and one invalidated by expire_quiescent_template is
 * re-keyed to port 65535: so ports 0 are allowed in every column here. For a firewall-mark
 * service the "virtual" column is the packet's real destination, not the mark.
 */
import {
  CONNECTION_PROTOCOLS,
  type ConnectionEntry,
  type ConnectionProtocol,
  type Endpoint,
} from "@/server/ipvs/model";
import { fieldsAre, hexAddress, requireNonEmpty, type SourceLine, sourceLines } from "./common";

const LIST_SOURCE = "ipvsadm -Lnc";
const PROC_SOURCE = "/proc/net/ip_vs_conn";

const LIST_TITLE = ["pro", "expire", "state", "source", "virtual", "destination"];
const LIST_TITLE_PE = [...LIST_TITLE, "pe", "name", "pe_data"];
const PROC_TITLE = ["Pro", "FromIP", "FPrt", "ToIP", "TPrt", "DestIP", "DPrt", "State", "Expires"];
const PROC_TITLE_PE = [...PROC_TITLE, "PEName", "PEData"];

export function parseConnections(text: string): ConnectionEntry[] {
  const lines = sourceLines(LIST_SOURCE, text);
  const first = requireNonEmpty(LIST_SOURCE, lines);
  if (!fieldsAre(first, ["IPVS", "connection", "entries"]))
    throw first.error('expected "IPVS connection entries"');
  const title = lines[1];
  if (!fieldsAre(title, LIST_TITLE) && !fieldsAre(title, LIST_TITLE_PE)) {
    (title ?? first).fail("expected the connection table title");
  }
  return lines.slice(2).map((line) => {
    if (line.fields.length < 6) throw line.error("a connection line has at least 6 fields");
    const expire = /^(\d+):([0-5]\d)$/.exec(line.field(1, "expire"));
    if (expire?.[1] === undefined || expire[2] === undefined) {
      throw line.error(`expire ${JSON.stringify(line.fields[1])} is not mm:ss`);
    }
    const client = line.endpoint(3, "source", true);
    return {
      protocol: parseProtocol(line),
      expiresSeconds: Number(expire[1]) * 60 + Number(expire[2]),
      state: parseState(line, 2),
      client,
      virtual: line.endpoint(4, "virtual", true),
      destination: line.endpoint(5, "destination", true),
      template: client.port === 0,
      pe: parsePe(line, 6),
    };
  });
}

export function parseProcConnections(text: string): ConnectionEntry[] {
  const lines = sourceLines(PROC_SOURCE, text);
  const title = requireNonEmpty(PROC_SOURCE, lines);
  if (!fieldsAre(title, PROC_TITLE) && !fieldsAre(title, PROC_TITLE_PE)) {
    throw title.error("expected the ip_vs_conn title");
  }
  return lines.slice(1).map((line) => {
    if (line.fields.length < 9) throw line.error("a connection line has at least 9 fields");
    const client = procEndpoint(line, 1, "FromIP");
    return {
      protocol: parseProtocol(line),
      expiresSeconds: line.int(8, "Expires", Number.MAX_SAFE_INTEGER),
      state: parseState(line, 7),
      client,
      virtual: procEndpoint(line, 3, "ToIP"),
      destination: procEndpoint(line, 5, "DestIP"),
      template: client.port === 0,
      pe: parsePe(line, 9),
    };
  });
}

function parseProtocol(line: SourceLine): ConnectionProtocol {
  const text = line.field(0, "protocol");
  const protocol = CONNECTION_PROTOCOLS.find((p) => p === text);
  if (protocol === undefined) throw line.error(`unknown protocol ${JSON.stringify(text)}`);
  return protocol;
}

function parseState(line: SourceLine, index: number): string {
  const state = line.field(index, "state");
  if (!/^[A-Z][A-Z0-9_]*$/.test(state))
    throw line.error(`${JSON.stringify(state)} is not a connection state`);
  return state;
}

/** Persistence-engine columns, present only for services with --pe (e.g. sip). */
function parsePe(line: SourceLine, index: number): ConnectionEntry["pe"] {
  const name = line.fields[index];
  if (name === undefined) return null;
  // pe_data is printed as the engine gives it (a SIP Call-ID); keep every word of it.
  return { name, data: line.fields.slice(index + 1).join(" ") };
}

/** `CB00710A 0050` (hex IPv4 and port) or `2001:0db8:...:0010 0050` (full IPv6, hex port). */
function procEndpoint(line: SourceLine, index: number, what: string): Endpoint {
  const text = line.field(index, what);
  const address = hexAddress(text);
  if (address === null) throw line.error(`${what} ${JSON.stringify(text)} is not a hex address`);
  const portText = line.field(index + 1, `${what} port`);
  if (!/^[0-9A-Fa-f]{4}$/.test(portText))
    throw line.error(`port ${JSON.stringify(portText)} is not 4 hex digits`);
  return { address, port: Number.parseInt(portText, 16) };
}
