import type { Metadata } from "next";
import { ConnectionsView } from "@/components/connections/connections-view";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { id } = await params;
  return { title: `Connections of ${decodeURIComponent(id)}` };
}

export default async function ConnectionsPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ConnectionsView directorId={decodeURIComponent(id)} />;
}
