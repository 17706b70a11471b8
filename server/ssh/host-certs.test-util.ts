/** The host certificates and keys in __fixtures__/host-certs (made by ssh-keygen, see its README). */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FIXTURES = join(__dirname, "__fixtures__", "host-certs");

/** The first two fields of a .pub file: "type base64". */
export const pubLine = (name: string): string =>
  readFileSync(join(FIXTURES, name), "utf8").split(" ").slice(0, 2).join(" ");

export const blobOf = (name: string): Buffer =>
  Buffer.from(pubLine(name).split(" ")[1] ?? "", "base64");

/** 2026-06-01, inside the fixtures' validity (2026-01-01 to 2036-01-01). */
export const NOW = Date.UTC(2026, 5, 1) / 1000;
