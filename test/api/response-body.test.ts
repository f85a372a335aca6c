import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sendPart, type BodyDelivery } from '../../src/api/response-body.js';

/**
 * A download's body is "handed over" from the bytes the connection took, not from the order of the close
 * and finish events. Each case orders the events itself (the source ends only when the test says so), so
 * that what a loaded machine does by chance happens here every time.
 */
describe('response body of a download', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** One request served by `handle`; the handler's result and the response come back to the test. */
  async function serveOnce<T>(handle: (res: ServerResponse, req: IncomingMessage) => Promise<T>): Promise<{
    port: number;
    result: Promise<T>;
    closed: Promise<void>;
  }> {
    let settle!: (value: Promise<T>) => void;
    let closedNow!: () => void;
    const result = new Promise<T>((resolve) => (settle = resolve));
    const closed = new Promise<void>((resolve) => (closedNow = resolve));
    server = createServer((req, res) => {
      res.once('close', closedNow);
      settle(handle(res, req));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, result, closed };
  }

  /**
   * A client without keep-alive, as `agent: false` is: it reads the head and `bodyBytes` body bytes, then
   * destroys the socket at once. Resolves with the body bytes it had.
   */
  async function client(port: number, bodyBytes: number): Promise<Buffer> {
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /part HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    let received = Buffer.alloc(0);
    for await (const chunk of socket) {
      received = Buffer.concat([received, chunk as Buffer]);
      const head = received.indexOf('\r\n\r\n');
      if (head >= 0 && received.length - head - 4 >= bodyBytes) {
        socket.destroy();
        return received.subarray(head + 4);
      }
    }
    return received.subarray(received.indexOf('\r\n\r\n') + 4);
  }

  const content = Buffer.from('<Invoice>for you</Invoice>');

  it('a client that closes the socket right after the last byte, before the source reached its end: the whole body counts as handed over', async () => {
    const source = new PassThrough();
    const { port, result, closed } = await serveOnce((res) => {
      res.setHeader('Content-Length', String(content.length));
      return sendPart(res, source, content.length);
    });
    source.write(content);
    expect((await client(port, content.length)).toString()).toBe(content.toString());
    await closed;
    // The source has not reached its end (a file stream's last read, late under load), and is not waited for.
    const delivery: BodyDelivery = await result;
    expect(delivery).toMatchObject({ complete: true, sent: content.length });
    expect(delivery.error).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(source.destroyed).toBe(true);
  });

  it('the same order makes pipeline(source, res) reject although the client has every byte (why it is not the test of a handover)', async () => {
    const source = new PassThrough();
    const { port, result, closed } = await serveOnce(async (res) => {
      res.setHeader('Content-Length', String(content.length));
      return pipeline(source, res).then(
        () => 'resolved',
        (error: NodeJS.ErrnoException) => error.code,
      );
    });
    source.write(content);
    expect((await client(port, content.length)).toString()).toBe(content.toString());
    await closed;
    source.end();
    expect(await result).toBe('ERR_STREAM_PREMATURE_CLOSE');
  });

  it('a download that broke off is not handed over, and counts what went out', async () => {
    const source = new PassThrough();
    const half = 10;
    const { port, result, closed } = await serveOnce((res) => {
      res.setHeader('Content-Length', String(content.length));
      return sendPart(res, source, content.length);
    });
    source.write(content.subarray(0, half));
    expect((await client(port, half)).toString()).toBe(content.subarray(0, half).toString());
    await closed; // the rest of the source is never read: the client left
    const delivery = await result;
    expect(delivery).toMatchObject({ complete: false, sent: half });
    expect(delivery.error).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('a source shorter than its Content-Length is not handed over, and the client sees the connection cut, not a short body that looks whole', async () => {
    const { port, result } = await serveOnce((res) => {
      res.setHeader('Content-Length', String(content.length));
      const source = new PassThrough();
      source.end(content.subarray(0, 5));
      return sendPart(res, source, content.length);
    });
    const received = await client(port, content.length); // returns when the server cut the connection
    expect(received.toString()).toBe(content.subarray(0, 5).toString());
    expect(await result).toMatchObject({ complete: false, sent: 5 });
  });

  it('a read error of the source after some bytes: not handed over, the error is kept for the log', async () => {
    const { port, result } = await serveOnce((res) => {
      res.setHeader('Content-Length', String(content.length));
      let reads = 0;
      const source = new Readable({
        read() {
          if (reads++ === 0) this.push(content.subarray(0, 5));
          else this.destroy(new Error('disk read failed'));
        },
      });
      return sendPart(res, source, content.length);
    });
    expect((await client(port, content.length)).length).toBeLessThan(content.length);
    const delivery = await result;
    expect(delivery.complete).toBe(false);
    expect(delivery.error).toMatchObject({ message: 'disk read failed' });
  });

  it('a complete download the client reads to the end: handed over, no error', async () => {
    const { port, result } = await serveOnce((res) => {
      res.setHeader('Content-Length', String(content.length));
      const source = new PassThrough();
      source.end(content);
      return sendPart(res, source, content.length);
    });
    expect((await client(port, content.length)).toString()).toBe(content.toString());
    expect(await result).toEqual({ complete: true, sent: content.length });
  });

  it('an empty part: handed over once the response finished', async () => {
    const { port, result } = await serveOnce((res) => {
      res.setHeader('Content-Length', '0');
      const source = new PassThrough();
      source.end();
      return sendPart(res, source, 0);
    });
    expect((await client(port, 0)).length).toBe(0);
    expect(await result).toMatchObject({ complete: true, sent: 0 });
  });
});
