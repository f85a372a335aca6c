import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { installProcessGuard } from '../../src/cli/process-guard.js';

/**
 * Child process of rest-process-guard.test.ts: the process guard around a server whose `/escape` route lets
 * an error escape the way busboy's did (an 'error' event nobody listens to, after the answer went out).
 */
installProcessGuard(pino({ level: 'info' }), { maxErrors: Number(process.env.GUARD_MAX_ERRORS ?? 10) });
const server = createServer((req, res) => {
  if (req.url === '/escape') {
    res.end('answered, then the error escapes\n');
    setImmediate(() => new EventEmitter().emit('error', new Error('Unexpected end of form')));
    return;
  }
  res.end('ok\n');
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`),
);
