/** Helpers for the keepalived tests only: fixture configs as the files map the parser takes. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("./__fixtures__/", import.meta.url));

/** Every file under __fixtures__/<dir>, keyed as if <dir> were /etc/keepalived. */
export function fixtureFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const visit = (relative: string) => {
    for (const name of readdirSync(`${ROOT}${dir}/${relative}`)) {
      const path = relative === "" ? name : `${relative}/${name}`;
      if (statSync(`${ROOT}${dir}/${path}`).isDirectory()) visit(path);
      else files[`/etc/keepalived/${path}`] = readFileSync(`${ROOT}${dir}/${path}`, "utf8");
    }
  };
  visit("");
  return files;
}

export function fixtureText(path: string): string {
  return readFileSync(`${ROOT}${path}`, "utf8");
}

export const MAIN = "/etc/keepalived/keepalived.conf";
