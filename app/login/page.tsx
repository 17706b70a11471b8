import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { safeNextPath } from "@/server/auth/csp";
import { identify } from "@/server/auth/service";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[] }>;
}) {
  const { next: rawNext } = await searchParams;
  const next = safeNextPath(typeof rawNext === "string" ? rawNext : null);
  // Already signed in (a live session, or the trusted proxy's header): nothing to do here.
  if (identify(await headers()).user) redirect(next);
  return (
    <div className="mx-auto mt-16 w-full max-w-sm">
      <h1 className="mb-1 text-lg font-semibold tracking-tight">Sign in to LVS Console</h1>
      <p className="mb-4 text-sm text-muted-foreground">
        Changes and drains are recorded in the audit log under your name.
      </p>
      <LoginForm next={next} />
    </div>
  );
}
