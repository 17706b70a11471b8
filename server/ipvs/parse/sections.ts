/**
 * The framing the console's remote scripts print: `MARK name`, the command's output, then
 * `MARK exit N`. A section without its exit line was cut short (exitCode null).
 */
export interface Section {
  text: string;
  exitCode: number | null;
}

export function splitSections(stdout: string, mark: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: { name: string; lines: string[] } | null = null;
  for (const line of stdout.split("\n")) {
    if (line.startsWith(`${mark} `)) {
      const rest = line.slice(mark.length + 1);
      const exit = /^exit (\d+)$/.exec(rest);
      if (exit && current) {
        sections.set(current.name, { text: current.lines.join("\n"), exitCode: Number(exit[1]) });
        current = null;
      } else if (!exit) {
        current = { name: rest, lines: [] };
      }
      continue;
    }
    current?.lines.push(line);
  }
  if (current) sections.set(current.name, { text: current.lines.join("\n"), exitCode: null });
  return sections;
}
