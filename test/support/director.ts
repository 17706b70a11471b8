/** The director the live layer's unit tests talk to (nothing connects: readers are fakes). Test-only. */
import type { DirectorConfig } from "@/server/config";

export const testDirector: DirectorConfig = {
  id: "lab1",
  clusterId: "lab",
  host: "127.0.0.1",
  port: 2222,
  user: "root",
  privateKeyPath: "/dev/null",
  sudo: false,
};
