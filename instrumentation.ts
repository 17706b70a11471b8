/** Runs once when the server starts, before it handles any request. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // Records each request's socket address for the trusted-proxy check (server/auth/peer.ts).
    const { installPeerAddressHook } = await import("./server/auth/peer");
    installPeerAddressHook();
  }
}
