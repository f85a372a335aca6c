import { mkdtempSync, readdirSync } from 'node:fs';
import { request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUpload } from '../../src/api/multipart-upload.js';
import { problemHandler } from '../../src/api/problem.js';
import { createFileBlobStore } from '../../src/store/index.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { waitFor } from '../helpers/wait.js';

/**
 * An upload over the limit must end in 413 problem+json and leave nothing on disk — and must not end the
 * process: the blob writes it aborts reject while the body is still arriving (found in review: an
 * unhandled rejection there crashed the AP).
 */
describe('multipart upload limit', () => {
  useOpenApiContract();
  const blobDir = mkdtempSync(join(tmpdir(), 'qerds-upload-'));
  const blobs = createFileBlobStore(blobDir);
  let server: Server;
  let port = 0;
  /** Requests the server has finished with (body read or drained, answer sent). */
  let requestsClosed = 0;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    const app = express();
    app.post('/upload', async (req, res) => {
      const upload = await readUpload(req, blobs, 1000);
      res.json({ parts: upload.parts.map((p) => p.size) });
    });
    app.use(problemHandler);
    server = app.listen(0, '127.0.0.1');
    server.on('request', (req: IncomingMessage) => req.once('close', () => (requestsClosed += 1)));
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    server?.close();
  });

  /**
   * Sends a multipart body with the given file sizes. `whole`: all of it at once. `heldBack`: all but the
   * last 100 bytes, which are sent only once the answer has come: an answer then proves the request was
   * refused while its body was still arriving. Resolves once the server is done with the request too.
   */
  async function send(
    sizes: number[],
    mode: 'whole' | 'heldBack',
  ): Promise<{ status: number; body: string }> {
    const closedBefore = requestsClosed;
    const answer = await post(sizes, mode);
    // The server drains what it refused; once it has closed the request, nothing of it is still running.
    await waitFor(() => (requestsClosed > closedBefore ? true : undefined), { what: 'the request closed' });
    // An unhandled rejection is reported when the microtasks of the turn that made it have run.
    await new Promise((r) => setImmediate(r));
    return answer;
  }

  function post(sizes: number[], mode: 'whole' | 'heldBack'): Promise<{ status: number; body: string }> {
    const boundary = 'qerds-test-boundary';
    const parts = sizes.map((size, i) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="payload"; filename="f${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        Buffer.alloc(size, 0x61 + i),
        Buffer.from('\r\n'),
      ]),
    );
    const body = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/upload',
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': body.length,
          },
        },
        (res) => {
          if (mode === 'heldBack') req.end(body.subarray(body.length - 100));
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('error', (error) => (/ECONNRESET|EPIPE/.test(String(error)) ? undefined : reject(error)));
      if (mode === 'whole') req.end(body);
      else req.write(body.subarray(0, body.length - 100));
    });
  }

  const blobFiles = () => readdirSync(blobDir, { recursive: true }).filter((f) => String(f).length >= 64);

  it('accepts files within the limit', async () => {
    const result = await send([300, 400], 'whole');
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).parts).toEqual([300, 400]);
  });

  it('refuses one file over the limit with 413 while the body is still arriving, without an unhandled rejection', async () => {
    const before = blobFiles().length;
    const result = await send([5000], 'heldBack');
    expect(result.status).toBe(413);
    expect(result.body).toMatch(/PAYLOAD_TOO_LARGE/);
    expect(unhandled).toEqual([]);
    expect(blobFiles().length).toBe(before);
  });

  it('counts all files of a request against the limit together', async () => {
    const result = await send([600, 600], 'heldBack');
    expect(result.status).toBe(413);
    expect(unhandled).toEqual([]);
  });
});
