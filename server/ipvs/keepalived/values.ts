/** Reading single values of a config statement, each failure a finding on that statement. */
import { canonicalAddress, WEIGHT_MAX } from "@/server/ipvs/model";
import { type Finding, findingAt } from "./source";
import { type ConfigNode } from "./tree";

export class ValueReader {
  constructor(readonly findings: Finding[]) {}

  error(node: ConfigNode, message: string): void {
    this.findings.push(findingAt("error", node.source, message));
  }

  warn(node: ConfigNode, message: string): void {
    this.findings.push(findingAt("warning", node.source, message));
  }

  /** A whole number in min..max as the statement's `index`-th argument, or null (with a finding). */
  int(node: ConfigNode, index: number, min: number, max: number): number | null {
    const text = node.args[index];
    if (text === undefined) {
      this.error(node, `${node.keyword} needs a value`);
      return null;
    }
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      this.error(
        node,
        `${node.keyword} ${JSON.stringify(text)} is not a whole number from ${min} to ${max}`,
      );
      return null;
    }
    return Number(text);
  }

  /** keepalived timers accept decimals (seconds); returns seconds or null. */
  seconds(node: ConfigNode): number | null {
    const text = node.args[0];
    if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) {
      this.error(node, `${node.keyword} ${JSON.stringify(text ?? "")} is not a number of seconds`);
      return null;
    }
    return Number(text);
  }

  address(node: ConfigNode, text: string | undefined, what: string): string | null {
    const address = text === undefined ? null : canonicalAddress(text);
    if (address === null) {
      this.error(node, `${what} ${JSON.stringify(text ?? "")} is not an IPv4 or IPv6 address`);
    }
    return address;
  }

  port(node: ConfigNode, text: string | undefined, what: string): number | null {
    if (text === undefined) return null;
    if (!/^\d+$/.test(text) || Number(text) > 65535) {
      this.error(node, `${what} port ${JSON.stringify(text)} is not a port from 0 to 65535`);
      return null;
    }
    return Number(text);
  }

  weight(node: ConfigNode): number | null {
    return this.int(node, 0, 0, WEIGHT_MAX);
  }

  /** keepalived's check_true_false: a bare keyword is true. */
  flag(node: ConfigNode): boolean {
    const text = node.args[0]?.toLowerCase();
    if (text === undefined || text === "true" || text === "on" || text === "yes") return true;
    if (text === "false" || text === "off" || text === "no") return false;
    this.error(node, `${node.keyword} ${JSON.stringify(node.args[0])} is neither true nor false`);
    return true;
  }

  noBlock(node: ConfigNode): void {
    if (node.block !== null) this.error(node, `${node.keyword} takes no block`);
  }
}
