import type { Metadata } from "next";
import { DirectorView } from "@/components/director/director-view";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { id } = await params;
  return { title: `Director ${decodeURIComponent(id)}` };
}

export default async function DirectorPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <DirectorView directorId={decodeURIComponent(id)} />;
}
