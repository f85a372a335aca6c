import { describe, expect, it } from 'vitest';
import { createGroupSender } from '../../src/core/group-sender.js';

/** A send that records each group and completes when the test says so. */
function controlledSend() {
  const groups: { key: string; items: string[]; finish: (error?: Error) => void }[] = [];
  const send = (key: string, items: readonly string[]) =>
    new Promise<string>((resolve, reject) => {
      groups.push({
        key,
        items: [...items],
        finish: (error) => (error ? reject(error) : resolve(`receipt of ${items.join('+')}`)),
      });
    });
  return { groups, send };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('createGroupSender', () => {
  it('sends an item meeting an idle key at the next turn, alone', async () => {
    const { groups, send } = controlledSend();
    const group = createGroupSender({ send });
    const a = group('peer', 'a');
    await turn();
    expect(groups.map((g) => g.items)).toEqual([['a']]);
    groups[0]!.finish();
    await expect(a).resolves.toBe('receipt of a');
  });

  it('gathers what arrives while sends are in flight into the next send, per key, within maxItems', async () => {
    const { groups, send } = controlledSend();
    const group = createGroupSender({ send, maxInFlight: 1, maxItems: 3 });
    const outcomes = ['a', 'b', 'c', 'd', 'e', 'f'].map((item) => group('peer', item));
    const other = group('other', 'x');
    await turn();
    // Same turn: the first send takes up to maxItems; the other key has its own.
    expect(groups.map((g) => [g.key, g.items])).toEqual([
      ['peer', ['a', 'b', 'c']],
      ['other', ['x']],
    ]);
    const late = group('peer', 'g');
    await turn();
    expect(groups).toHaveLength(2); // one in flight for peer: d, e, f, g wait
    groups[0]!.finish();
    await turn();
    expect(groups[2]!.items).toEqual(['d', 'e', 'f']);
    groups[2]!.finish();
    await turn();
    expect(groups[3]!.items).toEqual(['g']);
    groups[3]!.finish();
    groups[1]!.finish();
    await expect(Promise.all([...outcomes, late, other])).resolves.toEqual([
      'receipt of a+b+c',
      'receipt of a+b+c',
      'receipt of a+b+c',
      'receipt of d+e+f',
      'receipt of d+e+f',
      'receipt of d+e+f',
      'receipt of g',
      'receipt of x',
    ]);
  });

  it('fails every item of a failed send, unless retryAlone says one item may be the cause: then each goes again alone', async () => {
    const { groups, send } = controlledSend();
    const group = createGroupSender({
      send,
      maxInFlight: 1,
      retryAlone: (error) => String(error).includes('refused'),
    });
    const a = group('peer', 'a');
    const b = group('peer', 'b');
    await turn();
    groups[0]!.finish(new Error('unreachable'));
    await expect(a).rejects.toThrow('unreachable');
    await expect(b).rejects.toThrow('unreachable');

    const c = group('peer', 'c');
    const poison = group('peer', 'poison');
    await turn();
    expect(groups[1]!.items).toEqual(['c', 'poison']);
    groups[1]!.finish(new Error('refused'));
    await turn();
    // At once, one send each, outside the in-flight bound.
    expect(groups.slice(2).map((g) => g.items)).toEqual([['c'], ['poison']]);
    groups[2]!.finish();
    groups[3]!.finish(new Error('refused again'));
    await expect(c).resolves.toBe('receipt of c');
    await expect(poison).rejects.toThrow('refused again');
  });

  it('closes a group at maxBytes, yet sends a single larger item', async () => {
    const { groups, send } = controlledSend();
    const group = createGroupSender({ send, maxInFlight: 3, maxBytes: 10, sizeOf: (s: string) => s.length });
    void group('peer', 'aaaa');
    void group('peer', 'bbbb');
    void group('peer', 'cccc');
    void group('peer', 'dddddddddddddddd');
    await turn();
    expect(groups.map((g) => g.items)).toEqual([['aaaa', 'bbbb'], ['cccc'], ['dddddddddddddddd']]);
    for (const g of groups) g.finish();
  });
});
