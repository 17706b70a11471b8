"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";

/** The count of the doctor's findings about one director, on the fleet (last reports only). */
export function DoctorBadge({ directorId }: { directorId: string }) {
  const trpc = useTRPC();
  const summary = useQuery(
    trpc.doctor.summary.queryOptions(undefined, { refetchInterval: 10_000 }),
  );
  const mine = summary.data?.find((s) => s.directorId === directorId);
  if (!mine || mine.error + mine.warn === 0) return null;
  return (
    <Link
      href={`/directors/${encodeURIComponent(directorId)}#doctor-title`}
      className="ml-1"
      data-testid="doctor-badge"
    >
      <Badge
        variant={mine.error > 0 ? "danger" : "warn"}
        title={`doctor: ${mine.error} error(s), ${mine.warn} warning(s), ${mine.info} note(s)`}
      >
        doctor {mine.error + mine.warn}
      </Badge>
    </Link>
  );
}
