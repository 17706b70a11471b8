import { defineConfig } from "@playwright/test";

// E2E_PORT serves the console elsewhere, e.g. beside another suite already on 3100.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  // One lab director is shared by every test (and by other suites): never run in parallel.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  // Runs after the webServer is up: checks the lab; the server was prepared by the same script.
  globalSetup: "./e2e/global-setup.ts",
  use: {
    baseURL,
    headless: true,
    storageState: "e2e/.tmp/storage-state.json",
    viewport: { width: 1366, height: 768 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // Playwright starts the webServer before globalSetup, so the same script that globalSetup
    // uses prepares the lab and the config first; then a production build is served.
    command: `npx tsx e2e/global-setup.ts --prepare && ${process.env.E2E_SKIP_BUILD === "1" ? "" : "npx next build && "}npx next start -H 127.0.0.1 -p ${PORT}`,
    url: `${baseURL}/api/trpc/health`,
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LVS_CONSOLE_CONFIG: "e2e/.tmp/lvs-console.yaml",
      NEXT_TELEMETRY_DISABLED: "1",
    },
  },
});
