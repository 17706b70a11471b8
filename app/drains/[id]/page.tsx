import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { DrainView } from "@/components/drains/drain-view";

export const metadata: Metadata = { title: "Drain" };

export default async function DrainPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const drainId = Number(id);
  if (!Number.isInteger(drainId) || drainId <= 0) notFound();
  return <DrainView drainId={drainId} />;
}
