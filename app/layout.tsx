import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";
import { ThemeToggle, themeBootScript } from "@/components/theme-toggle";
import { TimeZoneToggle } from "@/components/time-zone";
import { TRPCReactProvider } from "@/components/trpc-provider";
import { Toaster } from "@/components/ui/toast";
import { NavLink } from "@/components/nav-link";
import { UserMenu } from "@/components/user-menu";

export const metadata: Metadata = {
  title: { default: "LVS Console", template: "%s · LVS Console" },
  description: "Operate Linux Virtual Server directors",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // proxy.ts puts a fresh CSP nonce on every request; reading it also makes every page render
  // per request, which nonces need (a static page cannot carry one).
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: themeBootScript }} />
      </head>
      <body className="min-h-screen antialiased">
        <TRPCReactProvider>
          <Toaster>
            <header className="sticky top-0 z-30 border-b bg-card/95 backdrop-blur">
              <div className="mx-auto flex h-10 max-w-[1600px] items-center gap-4 px-4">
                <Link href="/" className="text-sm font-semibold tracking-tight">
                  LVS Console
                </Link>
                <nav aria-label="Main" className="flex items-center gap-1 text-sm">
                  <NavLink href="/">Fleet</NavLink>
                  <NavLink href="/audit">Audit</NavLink>
                </nav>
                <div className="ml-auto flex items-center gap-2">
                  <UserMenu />
                  <TimeZoneToggle />
                  <ThemeToggle />
                </div>
              </div>
            </header>
            <main className="mx-auto max-w-[1600px] px-4 py-3">{children}</main>
          </Toaster>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
