/** `ipvsadm --version`: `ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)`. */
import { type IpvsadmVersion } from "@/server/ipvs/model";
import { requireNonEmpty, sourceLines } from "./common";

const SOURCE = "ipvsadm --version";

export function parseVersion(text: string): IpvsadmVersion {
  const lines = sourceLines(SOURCE, text);
  const line = requireNonEmpty(SOURCE, lines);
  lines[1]?.fail("unexpected line after the version");
  const raw = line.text.trim();
  // The build option in the middle differs (popt or getopt_long); both ends do not.
  const match = /^ipvsadm v(\d+(?:\.\d+)+)\s.*\bIPVS v(\d+(?:\.\d+)+)\)$/.exec(raw);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw line.error('expected "ipvsadm vX.Y DATE (compiled with ... and IPVS vX.Y.Z)"');
  }
  return { ipvsadm: match[1], ipvs: match[2], raw };
}
