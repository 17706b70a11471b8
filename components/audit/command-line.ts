/** argv as a copyable shell line for reading; the server's own quoting is what actually runs. */
export function commandLineForDisplay(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}
