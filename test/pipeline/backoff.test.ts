import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/pipeline/index.js';

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
