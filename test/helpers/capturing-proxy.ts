import { createConnection, createServer, type Server } from 'node:net';

/**
 * A loopback TCP proxy in front of `targetPort` that keeps, per connection, what clients send (an AP's AS4 requests)
 * and the answers (the peer's receipts): what travels on the wire between two APs, for tests to take apart.
 */
export async function capturingProxy(
  targetPort: number,
): Promise<{ port: number; sent: Buffer[][]; answered: Buffer[][]; server: Server }> {
  const sent: Buffer[][] = [];
  const answered: Buffer[][] = [];
  const server = createServer((client) => {
    const seen: Buffer[] = [];
    const back: Buffer[] = [];
    sent.push(seen);
    answered.push(back);
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    client.on('data', (chunk: Buffer) => seen.push(Buffer.from(chunk)));
    upstream.on('data', (chunk: Buffer) => back.push(Buffer.from(chunk)));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, sent, answered, server };
}

/** One HTTP message as it went over the wire. */
export interface HttpMessage {
  /** Start line and headers. */
  readonly head: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** The whole message, head and body. */
  readonly raw: Buffer;
}

/**
 * The complete HTTP messages in `bytes` (Content-Length delimited): start line and headers, Content-Type, body; a
 * message whose body has not all arrived yet is left out.
 */
export function httpMessages(bytes: Buffer): HttpMessage[] {
  const out: HttpMessage[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const head = bytes.subarray(pos, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? '0');
    if (headEnd + 4 + length > bytes.length) break;
    out.push({
      head,
      contentType: /\r\ncontent-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '',
      body: bytes.subarray(headEnd + 4, headEnd + 4 + length),
      raw: bytes.subarray(pos, headEnd + 4 + length),
    });
    pos = headEnd + 4 + length;
  }
  return out;
}
