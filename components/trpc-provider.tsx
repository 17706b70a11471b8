"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { useState, type ReactNode } from "react";
import superjson, { type SuperJSONResult } from "superjson";
import type { AppRouter } from "@/server/trpc/root";
import { signInAgainLink } from "./sign-in-again";
import { TRPCProvider } from "./trpc";

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 2_000, refetchOnWindowFocus: false, retry: 1 },
      mutations: { retry: false },
    },
  });
}

const url = "/api/trpc";

/**
 * superjson, reading each answer in place: it is JSON parsed for this one call that nothing
 * else holds, and superjson's default deep copy of it was a tenth of the fleet page's
 * script time per push.
 */
const transformer = {
  serialize: (value: unknown) => superjson.serialize(value),
  deserialize: (value: unknown) =>
    superjson.deserialize(value as SuperJSONResult, { inPlace: true }),
};

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        signInAgainLink,
        splitLink({
          condition: (op) => op.type === "subscription",
          // SSE: one long-lived GET per subscription; the browser's EventSource reconnects and
          // tRPC resends the last tracked id so the server can resume.
          true: httpSubscriptionLink({ url, transformer }),
          false: httpBatchLink({ url, transformer, maxURLLength: 4000 }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
