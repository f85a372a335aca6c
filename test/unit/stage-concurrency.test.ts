import { describe, expect, it } from 'vitest';
import { stageConcurrency } from '../../src/access-point/queue-binding.js';
import { configSchema } from '../../src/config/index.js';

describe('stageConcurrency', () => {
  it('takes queue.concurrency, raises notify to 32, and lets queue.stages.<stage>.concurrency decide', () => {
    const plain = configSchema.parse({});
    expect(stageConcurrency(plain.queue, 'relay')).toBe(4);
    expect(stageConcurrency(plain.queue, 'notify')).toBe(32);
    const wide = configSchema.parse({ queue: { concurrency: 50 } });
    expect(stageConcurrency(wide.queue, 'notify')).toBe(50);
    const own = configSchema.parse({
      queue: { stages: { notify: { concurrency: 2 }, relay: { concurrency: 9 } } },
    });
    expect(stageConcurrency(own.queue, 'notify')).toBe(2);
    expect(stageConcurrency(own.queue, 'relay')).toBe(9);
    expect(stageConcurrency(own.queue, 'deliver')).toBe(4);
    expect(() => configSchema.parse({ queue: { stages: { notify: { concurrency: 0 } } } })).toThrow();
  });
});
