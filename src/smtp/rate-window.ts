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

export function createRateWindow(options: {
  windowMs: number;
  maxKeys?: number;
  now?: () => number;
}): RateWindow {
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

/**
 * Open connections per key (a client's IP address), for a per-address cap: one address holding every slot
 * of `maxClients` would shut out every other client. `open` counts a connection unless the key is at `max`;
 * `close` releases one counted by `open`.
 */
export interface ConnectionCount {
  /** Counts a new connection of `key`; false (nothing counted) when `key` already holds `max`. */
  open(key: string): boolean;
  close(key: string): void;
}

export function createConnectionCount(max: number): ConnectionCount {
  const open = new Map<string, number>();
  return {
    open(key) {
      const n = open.get(key) ?? 0;
      if (n >= max) return false;
      open.set(key, n + 1);
      return true;
    },
    close(key) {
      const n = (open.get(key) ?? 0) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    },
  };
}
