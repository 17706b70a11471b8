/**
 * Where things are in a keepalived config, and what the parser could not understand.
 *
 * Offsets are indexes into the file's text as a JavaScript string (UTF-16 code units), the
 * unit String.slice uses, so an editor can splice the text; keepalived configs are ASCII in
 * practice, where they equal byte offsets.
 */

export interface SourceRef {
  file: string;
  /** 1-based, as an editor shows it. */
  line: number;
  /** 1-based. */
  column: number;
  /** Index of the first character. */
  start: number;
  /** Index just past the last character (a block's closing brace included). */
  end: number;
}

/**
 * `error`: keepalived's view may differ from what the parser reports (a line it could not
 * read, a construct it does not model); never edit a block holding one.
 * `warning`: understood, and keepalived does something the operator may not expect (it
 * skips a missing include, defaults the protocol to UDP, drops a duplicate realserver).
 */
export type FindingSeverity = "error" | "warning";

export interface Finding {
  severity: FindingSeverity;
  file: string;
  line: number;
  /** Index into the file's text, so a finding can be placed inside a block. */
  offset: number;
  message: string;
}

export function findingAt(
  severity: FindingSeverity,
  at: { file: string; line: number; start: number },
  message: string,
): Finding {
  return { severity, file: at.file, line: at.line, offset: at.start, message };
}

/** "keepalived.conf:12" style label for messages. */
export function formatSource(ref: { file: string; line: number }): string {
  return `${ref.file}:${ref.line}`;
}
