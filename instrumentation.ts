/** Runs once when the server starts, before it handles any request. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // A bad lvs-console.yaml stops start-up, naming the file, the field and the problem
    // (not `next build`, which needs no config).
    if (process.env.NEXT_PHASE !== "phase-production-build") {
      const { ConfigError, getConfig } = await import("./server/config");
      const { getLog } = await import("./server/log");
      try {
        const config = getConfig();
        getLog().info({ event: "console.start", file: config.file }, "config loaded");
        // Attempts the previous process left pending: marked interrupted now, before any
        // request can record a new one; what their directors hold is read in the background.
        const { recoverInterruptedAttempts } = await import("./server/directors/interrupted");
        recoverInterruptedAttempts().then(
          (entries) => {
            if (entries.length > 0)
              getLog().warn(
                { event: "audit.interrupted", ids: entries.map((e) => e.id) },
                `${entries.length} change attempt(s) were interrupted by the last stop`,
              );
          },
          (e: unknown) =>
            getLog().error(
              { event: "audit.interrupted", err: e },
              "marking interrupted attempts failed",
            ),
        );
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        getLog().fatal({ event: "config.invalid", file: e.file, issues: e.issues }, e.message);
        process.exit(1);
      }
    }
    // Poll metrics go to the /metrics registry (server/live never imports server/metrics).
    const { setPollMetricsSink } = await import("./server/live/poll-observer");
    const { getConsoleMetrics } = await import("./server/metrics/registry");
    setPollMetricsSink(getConsoleMetrics());
    // Records each request's socket address for the trusted-proxy check (server/auth/peer.ts).
    const { installPeerAddressHook } = await import("./server/auth/peer");
    installPeerAddressHook();
  }
}
