import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { loadConfig } from '../../src/config/index.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';
import { qerdsInProcess } from '../helpers/cli.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * A job whose stage gives up is kept as a dead letter, listed by the admin API and `qerds dead-letters`,
 * and replayed. C3 knows C2's AS4 endpoint only through a forwarding proxy that is down at first (it
 * drops every connection): C3's notify of ContentConsignment fails until its budget (2 attempts) is
 * spent. Then the proxy forwards and an operator replays the dead letter: the evidence reaches C2.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN_KEY = 'admin-key-for-dead-letter-tests-0123';
const work = mkdtempSync(join(tmpdir(), 'qerds-dead-'));
const aps: AccessPoint[] = [];
let proxy: Server | undefined;

afterAll(async () => {
  for (const ap of aps) await ap.stop();
  proxy?.closeAllConnections();
  await new Promise((done) => (proxy ? proxy.close(done) : done(undefined)));
  rmSync(work, { recursive: true, force: true });
});

const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('dead letters', () => {
  it('keeps a notify that gave up, lists it (admin API and CLI), and replays it to success', async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    // The proxy listens first (port 0), dropping connections until the way to C2 is "repaired".
    let c2Port = 0;
    proxy = createServer((req, res) => {
      const upstream = request(
        { host: '127.0.0.1', port: c2Port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    let proxyDown = true;
    proxy.on('connection', (socket) => proxyDown && socket.destroy());
    await new Promise<void>((done) => proxy!.listen(0, '127.0.0.1', done));
    const proxyPort = (proxy.address() as AddressInfo).port;
    // Claimed, not port 0: each AP's directory names both APs' endpoints (its own too) before either listens.
    c2Port = await claimPort();
    const c3Port = await claimPort();
    const make = (name: 'c2' | 'c3', port: number, account: typeof SENDER, senderEndpoint: string) => {
      const file = join(work, `${name}.yaml`);
      writeFileSync(
        file,
        toYaml({
          ap: { name, id: devApId(name) },
          http: { port },
          store: {
            kind: 'sqlite',
            sqliteFile: join(work, name, 'qerds.sqlite'),
            blobDir: join(work, name, 'blobs'),
          },
          queue: { pollIntervalMs: 20 },
          // C3's notify gives up after 2 attempts (what this test is about); C2's relay to C3 must not give up
          // on a busy machine, so it gets the default budget. No short timeout: a refused connection fails at once.
          relay:
            name === 'c3'
              ? { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 }
              : { baseDelayMs: 20, maxDelayMs: 500 },
          pki: { dir: pkiDir, apName: name },
          directory: {
            participants: [
              // Each AP's AS4 encryption certificate: the P-Mode encrypts AS4 payloads for the peer.
              {
                id: SENDER.id,
                name: SENDER.name,
                endpoint: senderEndpoint,
                apEncryptionCertificate: devPkiLayout(pkiDir).ap('c2').encCert,
                apCertificate: devPkiLayout(pkiDir).ap('c2').sealCert,
              },
              {
                id: RECIPIENT.id,
                name: RECIPIENT.name,
                endpoint: `http://127.0.0.1:${c3Port}/as4`,
                apEncryptionCertificate: devPkiLayout(pkiDir).ap('c3').encCert,
                apCertificate: devPkiLayout(pkiDir).ap('c3').sealCert,
              },
            ],
          },
          apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
          adminKeys: [{ key: ADMIN_KEY, name: 'ops' }],
        }),
      );
      return file;
    };
    const c2File = make('c2', c2Port, SENDER, `http://127.0.0.1:${c2Port}/as4`);
    const c3File = make('c3', c3Port, RECIPIENT, `http://127.0.0.1:${proxyPort}/as4`);
    const logger = pino({ level: process.env.DEBUG_LOG ?? 'silent' });
    const c2 = await createAccessPoint(loadConfig({ file: c2File, env: {} }), { logger });
    aps.push(c2);
    const c3 = await createAccessPoint(loadConfig({ file: c3File, env: {} }), { logger });
    aps.push(c3);
    await Promise.all([c2.start(), c3.start()]);

    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    const { id } = await api<{ id: string }>(c2.url, SENDER.key, '/api/v1/messages', {
      method: 'POST',
      body: form,
    });

    const admin = (path: string, init: RequestInit = {}, key = ADMIN_KEY) =>
      fetch(`${c3.url}/api/v1/admin${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });
    type View = {
      id: number;
      stage: string;
      messageId: string;
      attempts: number;
      lastError: string | null;
      data: { evidenceId?: string };
    };
    // C3 returns two evidence to C2: RelayAcceptance and ContentConsignment. Both notify jobs give up.
    let letters: View[] = [];
    await until('the dead letters at C3', async () => {
      letters = (await (await admin('/dead-letters')).json()) as View[];
      return letters.length >= 2;
    });
    const c3Message = (await accessPointInternals(c3).context.store.listMessages())[0]!;
    expect(letters).toHaveLength(2);
    for (const letter of letters) {
      expect(letter).toMatchObject({ stage: 'notify', messageId: c3Message.id, attempts: 2 });
      expect(letter.lastError).toMatch(/^AS4_/);
    }
    const events = await Promise.all(
      letters.map(
        async (l) => (await accessPointInternals(c3).context.store.getEvidence(l.data.evidenceId!))?.event,
      ),
    );
    expect(events.sort()).toEqual(['ContentConsignment', 'RelayAcceptance']);
    // Given up: nothing runs them any more (C3 has no live job left), and C2 has only its own evidence.
    await until(
      'no live job at C3',
      async () =>
        Object.keys((await accessPointInternals(c3).context.store.stats()).outboxByStage).length === 0,
    );
    expect((await accessPointInternals(c2).context.store.listEvidence(id)).map((e) => e.event)).toEqual([
      'SubmissionAcceptance',
    ]);
    expect(await (await fetch(`${c3.url}/metrics`)).text()).toContain('qerds_dead_letters{stage="notify"} 2');

    // Only admin keys open the admin API: none, or a participant's key, is refused.
    expect((await fetch(`${c3.url}/api/v1/admin/dead-letters`)).status).toBe(401);
    expect((await admin('/dead-letters', {}, RECIPIENT.key)).status).toBe(401);

    // The CLI sees the same dead letter, on the store directly. `dead-letters` launched once as a user would
    // (bin/qerds.js in its own process, proving the entry point); the other runs in this process.
    const launched = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin/qerds.js'), 'dead-letters', 'list', '--json', '-c', c3File],
      { cwd: work },
    );
    expect(JSON.parse(launched.stdout) as View[]).toEqual(letters);
    expect(await qerdsInProcess(['dead-letters', 'replay', '999999', '-c', c3File])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('no dead letter 999999'),
    });

    // The way to C2 is repaired; the operator replays.
    proxyDown = false;
    // One replay through the admin API, the other through the CLI.
    const [first, second] = letters as [View, View];
    const replay = await admin(`/dead-letters/${first.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ id: first.id, replayed: true });
    expect((await admin(`/dead-letters/${first.id}/replay`, { method: 'POST' })).status).toBe(404);
    expect(await qerdsInProcess(['dead-letters', 'replay', String(second.id), '-c', c3File])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining(`dead letter ${second.id} replayed`),
    });
    await until(
      'both evidence at C2',
      async () => (await accessPointInternals(c2).context.store.listEvidence(id)).length === 3,
    );
    expect(
      (await accessPointInternals(c2).context.store.listEvidence(id)).map((e) => e.event).sort(),
    ).toEqual(['ContentConsignment', 'RelayAcceptance', 'SubmissionAcceptance']);
    expect(await (await admin('/dead-letters')).json()).toEqual([]);
    expect((await accessPointInternals(c3).context.store.stats()).outboxByStage).toEqual({});
  }, 180_000);
});
