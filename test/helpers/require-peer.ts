/**
 * Tests that need a peer program (a real S3 client, a browser, a system tool, the built CLI)
 * skip when it is missing on a developer's machine, but fail in CI: a CI image that lost a peer
 * must not go green by silently running less.
 *
 * @example
 *   describe.skipIf(missingPeer('rclone', existsSync(RCLONE)))('rclone', () => { ... });
 */

/** Whether CI is running these tests (CI=true or any non-empty value but "false"/"0"). */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * true when the peer is missing and the tests should skip; throws instead when running in CI.
 * Use as the condition of `skipIf`.
 */
export function missingPeer(name: string, present: unknown, env: NodeJS.ProcessEnv = process.env): boolean {
  if (present) return false;
  if (inCI(env)) throw new Error(`${name} is required in CI but was not found: install it in the CI image (tests needing it would otherwise skip silently)`);
  return true;
}
