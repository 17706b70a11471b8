import type { Metadata } from "next";
import { RealserverView } from "@/components/realserver/realserver-view";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ address: string }>;
}): Promise<Metadata> {
  const { address } = await params;
  return { title: `Realserver ${decodeURIComponent(address)}` };
}

export default async function RealserverPage({ params }: { params: Promise<{ address: string }> }) {
  const { address } = await params;
  return <RealserverView address={decodeURIComponent(address)} />;
}
