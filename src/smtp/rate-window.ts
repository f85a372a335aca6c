/**
 * Counts events per key (a client's IP address) within a sliding window: failed AUTH attempts, messages from
 * one address. In memory and per process, which is what an SMTP listener's abuse limit needs (a cluster-wide
 * count would put Redis on the path of every connection). Bounded: past `maxKeys` keys the least recently
 * active one is forgotten, so a flood of addresses cannot grow it without end.
 */
export interface RateWindow {
  /** Events of `key` within the window, now. */
  count(key: string): number;
  /** Records one event of `key` now. */
  add(key: string): void;
}

export function createRateWindow(options: { windowMs: number; maxKeys?: number; now?: () => number }): RateWindow {
  const events = new Map<string, number[]>();
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  const recent = (key: string): number[] => {
    const since = now() - options.windowMs;
    const kept = (events.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) events.delete(key);
    else events.set(key, kept);
    return kept;
  };
  return {
    count: (key) => recent(key).length,
    add(key) {
      const kept = recent(key);
      // Re-inserted at the end: the Map's first key is the least recently active.
      events.delete(key);
      events.set(key, [...kept, now()]);
      if (events.size > maxKeys) events.delete(events.keys().next().value!);
    },
  };
}
