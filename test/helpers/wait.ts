/**
 * Polls `probe` every 100 ms until it returns something other than undefined, and returns that; fails with
 * "timed out waiting for <what>" after `timeoutMs`. For tests that wait on an asynchronous pipeline.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'the condition'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
