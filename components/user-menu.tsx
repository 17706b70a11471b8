"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { usePathname } from "next/navigation";
import { useEffect } from "react";
import { sendToSignIn } from "@/components/sign-in-again";
import { useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";

/**
 * Who is signed in, and a way out. Re-asks the server every minute so an idle or absolute
 * session expiry sends the operator to the sign-in page instead of leaving a dead screen.
 */
export function UserMenu() {
  const trpc = useTRPC();
  const pathname = usePathname();
  const me = useQuery(
    trpc.auth.me.queryOptions(undefined, { refetchInterval: 60_000, retry: false }),
  );
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({ onSettled: () => window.location.assign("/login") }),
  );
  const user = me.data?.user ?? null;
  const signedOut = me.isSuccess && user === null && pathname !== "/login";

  useEffect(() => {
    if (signedOut) sendToSignIn();
  }, [signedOut]);

  if (!user) return null;
  return (
    <div className="flex items-center gap-2 text-xs">
      <span className="text-muted-foreground" data-testid="signed-in-user">
        {user.name} <span className="rounded bg-muted px-1 py-0.5">{user.role}</span>
      </span>
      {me.data?.via === "session" && (
        <Button
          variant="ghost"
          size="xs"
          onClick={() => logout.mutate()}
          disabled={logout.isPending}
        >
          Sign out
        </Button>
      )}
    </div>
  );
}
