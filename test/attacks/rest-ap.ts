import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { loadConfig, type QerdsConfigInput } from '../../src/config/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devApId } from '../../src/pki/dev-ap-id.js';

/**
 * One access point (C2) on plain HTTP on loopback for the REST attack tests: SQLite in memory, blobs in a
 * scratch directory the tests inspect, one sender with an API key, one recipient in the directory whose AP
 * never answers (the relay is not under test).
 */
export const SENDER = {
  id: '0188:1234567890123',
  name: 'Sample Trading Co., Ltd.',
  key: 'sender-api-key-0123456789abcdef',
};
export const RECIPIENT = {
  id: '0188:9876543210987',
  name: 'Test Works LLC',
  key: 'recipient-api-key-0123456789abcd',
};

export interface AttackAp {
  readonly ap: AccessPoint;
  readonly url: string;
  readonly blobDir: string;
  /**
   * Blob files (content-addressed and temporary) in the blob directory once the pipeline is quiet: earlier
   * valid submissions are still being sealed and relayed in the background, and their blob writes (a
   * temporary file, then its content) must not be taken for what a refused request left behind.
   */
  blobFiles(): Promise<string[]>;
  /** Message rows in the store. */
  messageCount(): Promise<number>;
  stop(): Promise<void>;
}

export async function startAttackAp(
  name: string,
  overrides: QerdsConfigInput = {},
  prepare?: (blobDir: string) => void,
): Promise<AttackAp> {
  const work = mkdtempSync(join(tmpdir(), `qerds-attack-${name}-`));
  const blobDir = join(work, 'blobs');
  prepare?.(blobDir);
  const pki = sharedTestPki();
  const config = loadConfig({
    env: {},
    overrides: {
      ap: { id: devApId('c2') },
      http: { port: 0 },
      store: { sqliteFile: ':memory:', blobDir },
      pki: { dir: pki.dir, apName: 'c2' },
      relay: { maxAttempts: 1, baseDelayMs: 600_000 },
      directory: {
        participants: [{ id: RECIPIENT.id, name: RECIPIENT.name, endpoint: 'https://127.0.0.1:9/as4' }],
      },
      accounts: [
        {
          participant: SENDER.id,
          name: SENDER.name,
          ial: 2,
          credentials: [{ kind: 'apiKey', keySha256: createHash('sha256').update(SENDER.key).digest('hex') }],
        },
        {
          participant: RECIPIENT.id,
          name: RECIPIENT.name,
          ial: 2,
          credentials: [
            { kind: 'apiKey', keySha256: createHash('sha256').update(RECIPIENT.key).digest('hex') },
          ],
        },
      ],
      log: { level: 'silent' },
      ...overrides,
    },
  });
  const ap = await createAccessPoint(config, { logger: pino({ level: 'silent' }) });
  await ap.start();
  return {
    ap,
    url: ap.url,
    blobDir,
    blobFiles: async () => {
      await waitFor(
        async () =>
          Object.values((await accessPointInternals(ap).context.store.stats()).outboxByStage).every(
            (n) => n === 0,
          )
            ? true
            : undefined,
        { what: 'the outbox to empty' },
      );
      await accessPointInternals(ap).context.queue.drain();
      try {
        return readdirSync(blobDir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name));
      } catch {
        return [];
      }
    },
    messageCount: async () =>
      (await accessPointInternals(ap).context.store.listMessages({ limit: 10_000 })).length,
    stop: async () => {
      await ap.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request with a raw body on a fresh connection; `abortAfter` bytes: the client stops and destroys the socket. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'POST', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A valid submission (one text part) with fetch: what the AP must still serve after each attack. */
export async function submitValid(
  url: string,
  subject = 'still serving',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject }));
  form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'invoice.xml');
  const response = await fetch(`${url}/api/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': SENDER.key },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A multipart/form-data body built by hand (so that it can be malformed on purpose). */
export function multipartBody(
  boundary: string,
  parts: readonly { name: string; filename?: string; contentType?: string; body: string | Buffer }[],
  options: { end?: boolean } = {},
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.contentType ? `Content-Type: ${part.contentType}\r\n` : ''}\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body));
    chunks.push(Buffer.from('\r\n'));
  }
  if (options.end !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
