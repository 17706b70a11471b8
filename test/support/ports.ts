/**
 * Fixed loopback ports of the integration and browser suites, shifted by
 * LVS_TEST_PORT_OFFSET so a second checkout can run its suite beside this one.
 */
export function testPort(base: number): number {
  const offset = Number(process.env.LVS_TEST_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > 20000) {
    throw new Error(
      `LVS_TEST_PORT_OFFSET must be an integer 0-20000, got "${process.env.LVS_TEST_PORT_OFFSET}"`,
    );
  }
  return base + offset;
}
