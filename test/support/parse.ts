/** Helpers for the parser tests only: fixture files and the PARSE_ERROR a call throws. */
import { readFileSync } from "node:fs";
import { thrownBy } from "./errors";

export function fixture(name: string): string {
  return readFileSync(new URL(`../../server/ipvs/__fixtures__/${name}`, import.meta.url), "utf8");
}

/** Runs `parse` and returns the PARSE_ERROR's code, source, line number and line. */
export function parseErrorOf(parse: () => unknown): {
  code: string;
  source: unknown;
  lineNumber: unknown;
  line: unknown;
  message: string;
} {
  const error = thrownBy(parse);
  return {
    code: error.code,
    source: error.details.source,
    lineNumber: error.details.lineNumber,
    line: error.details.line,
    message: error.message,
  };
}
