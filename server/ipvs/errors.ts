/**
 * What a failed ipvsadm (or sysctl) run means, from its exit code and stderr, so the UI can
 * say "that realserver is already a member" instead of showing raw stderr.
 *
 * Texts and exit codes are the ones captured from ipvsadm v1.31 on Linux 6.1
 * (__fixtures__/errors.md). Commands run with LC_ALL=C, so the texts are not translated.
 */

import {
  ConsoleError,
  type CommandFailedDetails,
  type IpvsExitClass,
  type IpvsFailure,
  type IpvsFailureKind,
} from "@/server/errors";

const RULES: ReadonlyArray<{ pattern: RegExp; kind: IpvsFailureKind; message: string }> = [
  {
    pattern: /Service already exists/,
    kind: "service-exists",
    message: "the virtual service already exists",
  },
  {
    pattern: /Destination already exists/,
    kind: "destination-exists",
    message: "the realserver is already a member of this service",
  },
  {
    pattern: /No such service/,
    kind: "no-such-service",
    message: "the virtual service does not exist",
  },
  {
    pattern: /No such destination/,
    kind: "no-such-destination",
    message:
      "the realserver is not a member of this service (route and tunnel members are keyed by the service port)",
  },
  {
    pattern: /Service not defined/,
    kind: "service-not-defined",
    message: "the virtual service does not exist",
  },
  {
    pattern: /Scheduler or persistence engine not found/,
    kind: "scheduler-not-found",
    message: "the director's kernel has no such scheduler or persistence engine",
  },
  {
    pattern: /illegal .*address/,
    kind: "illegal-address",
    message: "ipvsadm rejected an address or port",
  },
  {
    pattern: /illegal weight specified/,
    kind: "illegal-weight",
    message: "ipvsadm rejected the weight",
  },
  {
    pattern: /Numerical result out of range/,
    kind: "out-of-range",
    message:
      "the kernel refused a value out of range (is the lower threshold above the upper one?)",
  },
  {
    pattern: /Different address family is allowed only for tunneling servers/,
    kind: "address-family",
    message: "a realserver of another address family than its service needs tunnel forwarding",
  },
  {
    pattern: /Zero port specified/,
    kind: "zero-port",
    message: "a service without a port must be persistent",
  },
  {
    pattern: /invalid timeout value/,
    kind: "invalid-timeout",
    message: "ipvsadm rejected the timeout",
  },
  // Before ipvs-unavailable: a non-root run prints both "Permission denied" and "Are you sure ... built in the kernel".
  {
    pattern:
      /Permission denied|you must be root|sudo: a password is required|is not in the sudoers|not allowed to execute/,
    kind: "permission-denied",
    message:
      "the SSH user may not change IPVS: it must be root or allowed to run ipvsadm through sudo without a password",
  },
  {
    pattern:
      /Can't initialize ipvs|Protocol not available|command not found|ipvsadm: not found|No such file or directory/,
    kind: "ipvs-unavailable",
    message:
      "IPVS is not available on the director (ipvsadm missing or the ip_vs module not loaded)",
  },
  {
    pattern: /: unknown option/,
    kind: "unknown-option",
    message: "this ipvsadm does not know one of the options used",
  },
  {
    pattern:
      /invalid option|Try `ipvsadm -h'|conflicts with|conflict with|options conflicts|Usage:/,
    kind: "usage",
    message: "ipvsadm rejected the command line",
  },
];

export function exitClassOf(exitCode: number): IpvsExitClass {
  if (exitCode === 255) return "kernel-refusal";
  if (exitCode === 2) return "parse-error";
  if (exitCode === 1) return "not-found-on-list";
  return "other";
}

export function classifyIpvsadmFailure(exitCode: number, stderr: string): IpvsFailure {
  const text = stderr.trim();
  const exitClass = exitClassOf(exitCode);
  const rule = RULES.find((r) => r.pattern.test(text));
  if (exitCode === 127 && !rule) {
    return {
      kind: "ipvs-unavailable",
      exitCode,
      exitClass,
      message: "ipvsadm is not installed on the director",
      stderr: text,
    };
  }
  if (!rule) {
    const firstLine = text.split("\n")[0] ?? "";
    return {
      kind: "unknown",
      exitCode,
      exitClass,
      message: firstLine === "" ? `the command failed with exit code ${exitCode}` : firstLine,
      stderr: text,
    };
  }
  return { kind: rule.kind, exitCode, exitClass, message: rule.message, stderr: text };
}

/**
 * The one way a COMMAND_FAILED is built: the command, its exit and output, and what the
 * failure means (classified whenever the command exited).
 */
export function commandFailed(
  message: string,
  failure: Omit<CommandFailedDetails, "ipvs">,
  extra: Record<string, unknown> = {},
): ConsoleError<"COMMAND_FAILED"> {
  const ipvs =
    failure.exitCode === null ? null : classifyIpvsadmFailure(failure.exitCode, failure.stderr);
  return new ConsoleError("COMMAND_FAILED", message, { ...extra, ...failure, ipvs });
}
