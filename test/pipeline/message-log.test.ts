import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { messageLog } from '../../src/pipeline/stage-support.js';
import { duplicateKeys } from '../helpers/json-duplicate-keys.js';

/** messageLog names a message once per line, whatever logger it is given (a job's, a request's, the root). */
describe('messageLog', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, root: pino({ level: 'info' }, { write: (text: string) => void lines.push(text) }) };
  };

  it("uses a job's logger as it is, and binds the id on any other", () => {
    const { lines, root } = capture();
    const job = root.child({ messageId: 'msg-1', stage: 'relay', jobId: 7 });
    expect(messageLog(job, 'msg-1')).toBe(job);
    messageLog(job, 'msg-1').info({ attempt: 2 }, 'in a job');
    const request = root.child({ requestId: 'r-1' });
    messageLog(request, 'msg-1').info('in a request');
    messageLog(root, 'msg-1').info('at the root');
    expect(lines.map((l) => duplicateKeys(l))).toEqual([[], [], []]);
    expect(lines.map((l) => (JSON.parse(l) as { messageId?: string }).messageId)).toEqual([
      'msg-1',
      'msg-1',
      'msg-1',
    ]);
  });

  it('names another message than the bound one as relatedMessageId, never a second messageId', () => {
    const { lines, root } = capture();
    messageLog(root.child({ messageId: 'msg-1' }), 'msg-2').info('about another message');
    expect(duplicateKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ messageId: 'msg-1', relatedMessageId: 'msg-2' });
  });
});

describe('duplicateKeys (test helper)', () => {
  it('finds a key named twice in one object, at any depth, and only there', () => {
    expect(duplicateKeys('{"a":1,"b":"x","a":2}')).toEqual(['a']);
    expect(duplicateKeys('{"err":{"message":"m","message":"n"},"message":"o"}')).toEqual(['err.message']);
    expect(duplicateKeys('{"l":[{"x":1},{"x":2}],"s":"\\"x\\":","x":3}')).toEqual([]);
    expect(duplicateKeys('{"a\\u0062":1,"ab":2}')).toEqual(['ab']);
    expect(duplicateKeys('{"level":30,"messageId":"m","stage":"relay","messageId":"m"}')).toEqual([
      'messageId',
    ]);
  });
});
