/**
 * Just enough address arithmetic for the doctor: is an address inside a prefix? Pure, and
 * free of node:net so the same code runs in the browser.
 */
import { canonicalAddress } from "@/server/ipvs/model";

/** The address as a 32- or 128-bit number, or null when it is no address. */
export function addressBits(text: string): { family: 4 | 6; value: bigint } | null {
  const a = canonicalAddress(text);
  if (a === null) return null;
  if (!a.includes(":")) {
    const value = a.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { family: 4, value };
  }
  let groups: string[];
  const [head = "", tail] = a.split("::");
  if (tail === undefined) {
    groups = head.split(":");
  } else {
    const h = head === "" ? [] : head.split(":");
    const t = tail === "" ? [] : tail.split(":");
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  }
  if (groups.some((g) => g.includes("."))) return null; // IPv4-mapped forms: not used here
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  return { family: 6, value };
}

/** Whether `address` lies in `network/prefixLength` (same family only). */
export function inPrefix(address: string, network: string, prefixLength: number): boolean {
  const a = addressBits(address);
  const n = addressBits(network);
  if (!a || !n || a.family !== n.family) return false;
  const width = a.family === 4 ? 32 : 128;
  if (prefixLength < 0 || prefixLength > width) return false;
  const shift = BigInt(width - prefixLength);
  return a.value >> shift === n.value >> shift;
}

/** "10.10.0.0/24" from an interface address 10.10.0.1/24. */
export function networkOf(address: string, prefixLength: number): string {
  const a = addressBits(address);
  if (!a) return `${address}/${prefixLength}`;
  const width = a.family === 4 ? 32 : 128;
  const shift = BigInt(width - prefixLength);
  const value = (a.value >> shift) << shift;
  if (a.family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n));
    return `${octets.join(".")}/${prefixLength}`;
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return `${canonicalAddress(groups.join(":")) ?? groups.join(":")}/${prefixLength}`;
}

/** Parses "10.10.0.0/24" or a bare address (a host prefix); null when it is neither. */
export function parsePrefix(text: string): { network: string; prefixLength: number } | null {
  const [addr = "", len] = text.split("/");
  const bits = addressBits(addr);
  if (!bits) return null;
  const width = bits.family === 4 ? 32 : 128;
  const prefixLength = len === undefined ? width : Number(len);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > width) return null;
  return { network: addr, prefixLength };
}

/** Whether two prefixes share any address. */
export function prefixesOverlap(
  a: { network: string; prefixLength: number },
  b: { network: string; prefixLength: number },
): boolean {
  const shorter = a.prefixLength <= b.prefixLength ? a : b;
  const longer = shorter === a ? b : a;
  return inPrefix(longer.network, shorter.network, shorter.prefixLength);
}
