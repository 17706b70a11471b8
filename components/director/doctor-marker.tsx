"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import type { Endpoint } from "@/server/ipvs/model";
import { samePlain } from "@/server/ipvs/plain";
import { useTRPC, type RouterOutputs } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";

type Finding = NonNullable<RouterOutputs["doctor"]["last"]["report"]>["findings"][number];
/** The doctor's findings about one realserver (its address:port, or its address). */
export type DoctorFor = (rs: Endpoint) => readonly Finding[];

const NONE: readonly Finding[] = [];

/**
 * The doctor's last findings by realserver, from ONE query for the whole page (the Doctor
 * panel reads the same cache entry). A query per row made 1,000 observers with a timer
 * each on a big director: 200 refetch timers a second and every row re-rendered on each.
 * The function keeps its identity while the findings do, so memoised rows stay put.
 */
export function useDoctorFor(directorId: string): DoctorFor {
  const trpc = useTRPC();
  const last = useQuery(trpc.doctor.last.queryOptions({ directorId }, { refetchInterval: 5_000 }));
  const findings = last.data?.report?.findings;
  const fresh = useMemo(() => {
    const m = new Map<string, Finding[]>();
    for (const f of findings ?? []) {
      if (f.subject.kind !== "realserver") continue;
      const key = `${f.subject.address}|${f.subject.port}`;
      m.set(key, [...(m.get(key) ?? []), f]);
    }
    return m;
  }, [findings]);
  // A new report with the same findings about realservers keeps the map (and the function
  // below): every realserver row of the page would re-render for nothing otherwise.
  const [kept, setKept] = useState({ from: fresh, byKey: fresh });
  if (kept.from !== fresh) {
    setKept({ from: fresh, byKey: samePlain([...kept.byKey], [...fresh]) ? kept.byKey : fresh });
  }
  const byKey = kept.byKey;
  return useCallback(
    (rs: Endpoint) => {
      const exact = byKey.get(`${rs.address}|${rs.port}`);
      // Port 0: a finding about the address (its route), for every port of it.
      const address = byKey.get(`${rs.address}|0`);
      if (!exact && !address) return NONE;
      return [...(exact ?? []), ...(address ?? [])];
    },
    [byKey],
  );
}

/** The doctor's marker on a realserver row: the worst of its findings. */
export function DoctorMarker({ findings }: { findings: readonly Finding[] }) {
  const worst =
    findings.find((f) => f.severity === "error") ?? findings.find((f) => f.severity === "warn");
  if (!worst) return null;
  return (
    <Badge
      variant={worst.severity === "error" ? "danger" : "warn"}
      className="ml-1"
      title={findings.map((f) => f.message).join("\n\n")}
      data-doctor-marker={worst.code}
    >
      {worst.code}
    </Badge>
  );
}
