/**
 * Integration tests run against a real lab director (lab/): this makes sure one is up, and
 * stops it afterwards only if it was started here. LVS_LAB_NAME / LVS_LAB_PORT pick
 * another lab than the shared one ("lab" on 2222), e.g. a private one while developing.
 */
import type { TestProject } from "vitest/node";
import { ensureLab, stopLab } from "../../lab/harness";

declare module "vitest" {
  export interface ProvidedContext {
    labName: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = process.env.LVS_LAB_NAME ?? "lab";
  const port = Number(process.env.LVS_LAB_PORT ?? 2222);
  const { startedByUs } = await ensureLab({ name, port });
  project.provide("labName", name);
  return async () => {
    if (startedByUs) await stopLab(name);
  };
}
