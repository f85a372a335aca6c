import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on loopback in front of `endpoint` (an AP's AS4 URL), for tests that change what the peer seems to do:
 * `accept` false drops a request's connection (a peer that is down); `beforeAnswer`, when it gives a promise, holds
 * the peer's answer (read whole) until it settles (an answer that arrives late). Returns the URL to name instead.
 */
export async function forwardingProxy(
  endpoint: string,
  hooks: { accept?: () => boolean; beforeAnswer?: () => Promise<void> | undefined } = {},
): Promise<{ url: string; server: Server }> {
  const target = new URL(endpoint);
  const server = createServer((req, res) => {
    if (hooks.accept && !hooks.accept()) return void req.socket.destroy();
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const body: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => body.push(chunk));
        answer.on('end', () => {
          void Promise.resolve(hooks.beforeAnswer?.()).finally(() => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        });
        answer.on('error', () => res.destroy());
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`, server };
}
