"use client";
import Link from "next/link";
import type { RouterOutputs } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";

/**
 * The count of the doctor's findings about one director, on the fleet (last reports only).
 * The fleet page reads doctor.summary once for every row and hands each its counts.
 */
export function DoctorBadge({
  directorId,
  counts,
}: {
  directorId: string;
  counts: RouterOutputs["doctor"]["summary"][number] | undefined;
}) {
  if (!counts || counts.error + counts.warn === 0) return null;
  return (
    <Link
      href={`/directors/${encodeURIComponent(directorId)}#doctor-title`}
      className="ml-1"
      data-testid="doctor-badge"
    >
      <Badge
        variant={counts.error > 0 ? "danger" : "warn"}
        title={`doctor: ${counts.error} error(s), ${counts.warn} warning(s), ${counts.info} note(s)`}
      >
        doctor {counts.error + counts.warn}
      </Badge>
    </Link>
  );
}
