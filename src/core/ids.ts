import { randomUUID } from 'node:crypto';
import type { IdGenerator } from './ports.js';

/** Random (UUID v4) ids: unique without coordination between AP processes. */
export const uuidIdGenerator: IdGenerator = Object.freeze({
  next: (prefix?: string) => (prefix ? `${prefix}-${randomUUID()}` : randomUUID()),
});

/** Sequential ids for tests, so expected values repeat. */
export function sequentialIdGenerator(start = 1): IdGenerator {
  let n = start;
  return { next: (prefix?: string) => `${prefix ?? 'id'}-${String(n++).padStart(6, '0')}` };
}
