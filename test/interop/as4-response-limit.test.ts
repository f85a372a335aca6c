import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from './as4-helpers.js';

/**
 * A peer that answers with an endless body must not fill the sender's memory: the client counts the bytes as they
 * arrive and gives up past its limit (10 MiB) with an invalid-receipt error (found in review: the whole body used to be
 * read before the size check).
 */
describe('AS4 client response limit', () => {
  const pki = sharedTestPki();
  let server: Server;
  let endpoint = '';
  let sent = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 200 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses an oversized answer after reading little more than the limit', async () => {
    const attachments: Attachment[] = [
      { contentId: 'p@qerds', contentType: 'application/octet-stream', body: Buffer.from('x') },
    ];
    const error = await sendUserMessage({
      endpoint,
      message: sampleMessage('limit-test@qerds', attachments),
      attachments,
      identity: sealIdentity(pki, 'c2'),
      trust: anchorTrustStore(pki.caCert),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AS4_EBMS_0302' });
    expect(String((error as Error).message)).toMatch(/too large/);
    // The server stopped well before its 200 MiB: the client cancelled the stream.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
