/** Runs once when the server starts, before it handles any request. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // A bad lvs-console.yaml stops start-up, naming the file, the field and the problem
    // (not `next build`, which needs no config).
    if (process.env.NEXT_PHASE !== "phase-production-build") {
      const { ConfigError, getConfig } = await import("./server/config");
      try {
        getConfig();
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(e.message);
        process.exit(1);
      }
    }
    // Records each request's socket address for the trusted-proxy check (server/auth/peer.ts).
    const { installPeerAddressHook } = await import("./server/auth/peer");
    installPeerAddressHook();
  }
}
