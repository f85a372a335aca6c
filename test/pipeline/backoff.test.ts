import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { backoffDelay, retrySpanMs } from '../../src/pipeline/index.js';

describe('backoffDelay', () => {
  const opts = { baseMs: 100, maxMs: 1000 };

  it('doubles the ceiling per attempt and caps it at maxMs', () => {
    const ceiling = (attempt: number) => backoffDelay(attempt, { ...opts, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(ceiling)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(ceiling(10_000)).toBe(1000);
  });

  it('keeps at least half the ceiling (equal jitter) and spreads the rest', () => {
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(200);
    const seen = new Set(Array.from({ length: 200 }, () => backoffDelay(3, opts)));
    for (const d of seen) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it('treats attempts below 1 or non-numbers as the first attempt', () => {
    const lo = { ...opts, random: () => 0 };
    expect(backoffDelay(0, lo)).toBe(50);
    expect(backoffDelay(-3, lo)).toBe(50);
    expect(backoffDelay(Number.NaN, lo)).toBe(50);
  });
});

describe('retry budgets of the defaults (a peer restarting, deploying or in maintenance loses nothing)', () => {
  const hour = 3600_000;
  const defaults = configSchema.parse({});

  it('relay: 5 s doubling to 10 min, and at least 24 h of retries whatever the jitter draws (at most 48 h)', () => {
    expect(defaults.relay).toMatchObject({ baseDelayMs: 5000, maxDelayMs: 600_000, maxAttempts: 300 });
    expect(retrySpanMs(defaults.relay, 'min')).toBeGreaterThanOrEqual(24 * hour);
    expect(retrySpanMs(defaults.relay, 'max')).toBeLessThanOrEqual(49 * hour);
    // No single wait longer than the cap: a peer back after its maintenance gets the message within 10 min.
    expect(backoffDelay(299, { baseMs: 5000, maxMs: 600_000, random: () => 0.999999 })).toBeLessThanOrEqual(
      600_000,
    );
  });

  it('evidence webhooks: several hours (at least 7.5 h, at most 16 h)', () => {
    expect(defaults.webhooks).toMatchObject({ baseDelayMs: 5000, maxDelayMs: 600_000, maxAttempts: 100 });
    expect(retrySpanMs(defaults.webhooks, 'min')).toBeGreaterThanOrEqual(7.5 * hour);
    expect(retrySpanMs(defaults.webhooks, 'max')).toBeLessThanOrEqual(16 * hour);
  });

  it('the arithmetic: the old defaults (5 attempts from 1 s) gave up within 15 s', () => {
    const old = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 300_000 };
    expect(retrySpanMs(old, 'min')).toBe(500 + 1000 + 2000 + 4000);
    expect(retrySpanMs(old, 'max')).toBe(1000 + 2000 + 4000 + 8000);
    expect(retrySpanMs({ ...old, maxAttempts: 1 }, 'max')).toBe(0);
  });
});
