"use client";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import type { Endpoint } from "@/server/ipvs/model";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";

/**
 * The doctor's marker on a realserver row: the worst finding about this realserver (its
 * address:port, or its address for route findings). Reads the same cached query as the
 * Doctor panel, so it costs nothing more.
 */
export function DoctorMarker({ address, port }: Endpoint) {
  const trpc = useTRPC();
  const params = useParams<{ id: string }>();
  const directorId = decodeURIComponent(params.id ?? "");
  const last = useQuery(
    trpc.doctor.last.queryOptions(
      { directorId },
      { enabled: directorId !== "", refetchInterval: 5_000 },
    ),
  );
  const findings = (last.data?.report?.findings ?? []).filter(
    (f) =>
      f.subject.kind === "realserver" &&
      f.subject.address === address &&
      (f.subject.port === 0 || f.subject.port === port),
  );
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
