/**
 * Path handling and glob(3) matching for `include`, against a file list the caller
 * provides (the parser never touches a disk). keepalived 2.2.7 calls glob() with
 * GLOB_MARK | GLOB_BRACE and resolves a relative pattern from the directory of the file
 * that includes it (it chdir()s there while reading that file).
 */

export function dirname(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  return index === 0 ? "/" : path.slice(0, index);
}

/** Joins `path` onto `base` when relative, and removes `.`, `..` and doubled slashes. */
export function resolvePath(base: string, path: string): string {
  const full = path.startsWith("/") || base === "." ? path : `${base}/${path}`;
  const absolute = full.startsWith("/");
  const parts: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push(part);
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined === "" ? "." : joined;
}

export function hasWildcard(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** `a{b,c}d` -> `abd`, `acd` (nested braces too), in order, as GLOB_BRACE does. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === "{") depth += 1;
    else if (c === "}") {
      depth -= 1;
      if (depth === 0) {
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        const cuts = [open, ...commas, i];
        const results: string[] = [];
        for (let k = 0; k + 1 < cuts.length; k += 1) {
          const alternative = pattern.slice((cuts[k] ?? 0) + 1, cuts[k + 1]);
          results.push(...expandBraces(`${head}${alternative}${tail}`));
        }
        return results;
      }
    } else if (c === "," && depth === 1) commas.push(i);
  }
  return [pattern];
}

function segmentRegExp(segment: string): string {
  let out = /^[*?[]/.test(segment) ? "(?!\\.)" : "";
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment[i] ?? "";
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return out;
}

/** Files of `paths` that `pattern` (absolute, braces already expanded) matches, sorted. */
export function globMatch(pattern: string, paths: readonly string[]): string[] {
  const source = pattern
    .split("/")
    .map((segment) => segmentRegExp(segment))
    .join("/");
  const regexp = new RegExp(`^${source}$`);
  return paths.filter((path) => regexp.test(path)).sort();
}
