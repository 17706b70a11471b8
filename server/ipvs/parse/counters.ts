/**
 * `ipvsadm -Ln --stats` and `ipvsadm -Ln --rate`, with or without `--exact`.
 *
 * Without --exact, ipvsadm's print_largenum abbreviates any value of 100,000,000 or more
 * to whole thousands, millions, ... with a K, M, G or T suffix (it divides and truncates).
 * Decision: such a value is read as its lower bound (12K -> 12000) and the row is marked
 * `approximate`; mergeListings refuses approximate rows, so the console, which always
 * reads with --exact, never shows a rounded counter as if it were exact.
 */
import { type Counters, type Rates, type ServiceKey } from "@/server/ipvs/model";
import {
  fieldsAre,
  isRealserverLine,
  parseListedServiceKey,
  type ParseSource,
  requireNonEmpty,
  type SourceLine,
  sourceLines,
} from "./common";

export interface CounterRow<T> {
  values: T;
  /** True when a value was abbreviated (non-exact listing): the values are lower bounds. */
  approximate: boolean;
}

export interface CounterService<T> extends CounterRow<T> {
  key: ServiceKey;
  realservers: Array<CounterRow<T> & { address: string; port: number }>;
}

export interface StatsListing {
  services: Array<CounterService<Counters>>;
}

export interface RateListing {
  services: Array<CounterService<Rates>>;
}

const STATS_TITLE = [
  "Prot",
  "LocalAddress:Port",
  "Conns",
  "InPkts",
  "OutPkts",
  "InBytes",
  "OutBytes",
];
const RATE_TITLE = ["Prot", "LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"];
const REALSERVER_TITLE = ["->", "RemoteAddress:Port"];
const SUFFIX_POWER: Record<string, bigint> = { K: 3n, M: 6n, G: 9n, T: 12n };

export function parseStats(text: string): StatsListing {
  return {
    services: parseTable("ipvsadm -Ln --stats", text, STATS_TITLE, (line, values) => ({
      conns: values[0] ?? line.fail("missing Conns"),
      inPackets: values[1] ?? line.fail("missing InPkts"),
      outPackets: values[2] ?? line.fail("missing OutPkts"),
      inBytes: values[3] ?? line.fail("missing InBytes"),
      outBytes: values[4] ?? line.fail("missing OutBytes"),
    })),
  };
}

export function parseRate(text: string): RateListing {
  return {
    services: parseTable("ipvsadm -Ln --rate", text, RATE_TITLE, (line, values) => {
      const toNumber = (value: bigint | undefined, what: string): number => {
        if (value === undefined) throw line.error(`missing ${what}`);
        if (value > BigInt(Number.MAX_SAFE_INTEGER))
          throw line.error(`${what} ${value} is beyond 2^53`);
        return Number(value);
      };
      return {
        cps: toNumber(values[0], "CPS"),
        inPps: toNumber(values[1], "InPPS"),
        outPps: toNumber(values[2], "OutPPS"),
        inBps: toNumber(values[3], "InBPS"),
        outBps: toNumber(values[4], "OutBPS"),
      };
    }),
  };
}

function parseTable<T>(
  source: ParseSource,
  text: string,
  title: readonly string[],
  build: (line: SourceLine, values: bigint[]) => T,
): Array<CounterService<T>> {
  const lines = sourceLines(source, text);
  const first = requireNonEmpty(source, lines);
  const index = first.text.startsWith("IP Virtual Server version ") ? 1 : 0;
  const titleLine = lines[index];
  if (!fieldsAre(titleLine, title)) {
    (titleLine ?? first).fail(`expected the title ${JSON.stringify(title.join(" "))}`);
  }
  const realserverTitle = lines[index + 1];
  if (!fieldsAre(realserverTitle, REALSERVER_TITLE)) {
    (realserverTitle ?? titleLine ?? first).fail(
      'expected the realserver title "-> RemoteAddress:Port"',
    );
  }

  const services: Array<CounterService<T>> = [];
  for (const line of lines.slice(index + 2)) {
    if (isRealserverLine(line)) {
      const service = services.at(-1);
      if (service === undefined) throw line.error("realserver line before any service");
      const { address, port } = line.endpoint(1, "realserver address");
      const row = readValues(line, 2, build);
      service.realservers.push({ address, port, ...row });
    } else {
      const { key, next } = parseListedServiceKey(line);
      services.push({ key, ...readValues(line, next, build), realservers: [] });
    }
  }
  return services;
}

function readValues<T>(
  line: SourceLine,
  start: number,
  build: (line: SourceLine, values: bigint[]) => T,
): CounterRow<T> {
  line.expectFieldCount(start + 5, "a counter line");
  let approximate = false;
  const values = line.fields.slice(start).map((text) => {
    const match = /^(\d+)([KMGT]?)$/.exec(text);
    if (match?.[1] === undefined) throw line.error(`${JSON.stringify(text)} is not a counter`);
    const power = SUFFIX_POWER[match[2] ?? ""];
    if (power === undefined) return BigInt(match[1]);
    approximate = true;
    return BigInt(match[1]) * 10n ** power;
  });
  return { values: build(line, values), approximate };
}
