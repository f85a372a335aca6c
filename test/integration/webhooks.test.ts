import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECIPIENT,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { configSchema } from '../../src/config/index.js';
import { verifyEvidence } from '../../src/evidence/index.js';
import { devPkiLayout, loadTrustStore } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { loadContract, useOpenApiContract, webhookViolations } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/** Senders at C2 whose ERP takes evidence by webhook; the path names the webhook's behaviour. */
const ERP = {
  id: '0188:2000000000001',
  name: 'Webhook ERP KK',
  key: 'erp-key-0123456789abcdef00000000',
  path: '/erp',
};
const FLAKY = {
  id: '0188:2000000000002',
  name: 'Flaky ERP KK',
  key: 'flaky-key-0123456789abcdef000000',
  path: '/flaky',
};
const GONE = {
  id: '0188:2000000000003',
  name: 'Gone ERP KK',
  key: 'gone-erp-key-0123456789abcdef000',
  path: '/gone',
};
/** A recipient at C3 with store-and-notify: its notices are signed with its own secret. */
const NOTIFIED = {
  id: '0188:2000000000004',
  name: 'Notified KK',
  key: 'notified2-key-0123456789abcdef00',
  path: '/notices',
};

const secretOf = () => `whsec_${randomBytes(32).toString('base64')}`;
const secrets = { erp: secretOf(), flaky: secretOf(), gone: secretOf(), notified: secretOf() };

interface Delivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: Record<string, unknown>;
}

/**
 * The signature as an independent tool computes it: `openssl dgst -mac HMAC` over "<id>.<timestamp>.<body>",
 * with the key the `whsec_` secret encodes (Standard Webhooks). Not our code's HMAC.
 */
function opensslSignature(secret: string, id: string, timestamp: string, raw: string): string {
  const hexKey = Buffer.from(secret.slice('whsec_'.length), 'base64').toString('hex');
  const run = spawnSync(
    'openssl',
    ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hexKey}`, '-binary'],
    { input: `${id}.${timestamp}.${raw}` },
  );
  if (run.status !== 0) throw new Error(`openssl dgst failed: ${run.stderr.toString()}`);
  return `v1,${run.stdout.toString('base64')}`;
}

describe('webhooks: evidence to the sender ERP and notices to the recipient, signed (Standard Webhooks)', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-webhooks-'));
  const pkiDir = join(work, 'pki');
  const deliveries: Delivery[] = [];
  const flakyAttempts = new Map<string, number>();
  let server: Server;
  let net: TwoAccessPoints;

  beforeAll(async () => {
    await devTestPki(pkiDir);
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        deliveries.push({
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as Record<string, unknown>,
        });
        if (req.url === '/gone') return void res.writeHead(410).end();
        if (req.url === '/flaky') {
          // The first two attempts of each event fail (503): the third must carry the same webhook-id.
          const id = String(req.headers['webhook-id']);
          const n = (flakyAttempts.get(id) ?? 0) + 1;
          flakyAttempts.set(id, n);
          if (n <= 2) return void res.writeHead(503).end();
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hook = (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      overrides: { relay: { baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 4 } },
      extraParticipants: [
        {
          ...ERP,
          servedBy: 'c2',
          account: { key: ERP.key, evidenceWebhookUrl: hook(ERP.path), webhookSecret: secrets.erp },
        },
        {
          ...FLAKY,
          servedBy: 'c2',
          account: { key: FLAKY.key, evidenceWebhookUrl: hook(FLAKY.path), webhookSecret: secrets.flaky },
        },
        {
          ...GONE,
          servedBy: 'c2',
          account: { key: GONE.key, evidenceWebhookUrl: hook(GONE.path), webhookSecret: secrets.gone },
        },
        {
          ...NOTIFIED,
          servedBy: 'c3',
          account: {
            key: NOTIFIED.key,
            consignment: 'notify',
            notificationUrl: hook(NOTIFIED.path),
            webhookSecret: secrets.notified,
          },
        },
      ],
    });
  }, 90_000);
  afterAll(async () => {
    await net?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function submit(sender: { key: string }, recipient: string): Promise<string> {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient, subject: 'webhook test' }));
    form.append('payload', new Blob(['<Invoice>7</Invoice>'], { type: 'application/xml' }), 'invoice.xml');
    const response = await fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sender.key}` },
      body: form,
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  const deliveriesOf = (path: string, messageId: string) =>
    deliveries.filter((d) => d.path === path && d.body.messageId === messageId);

  it('the sender ERP gets every evidence of its message, signed; openssl computes the same signature; the XML verifies', async () => {
    const id = await submit(ERP, RECIPIENT.id);
    const events = ['SubmissionAcceptance', 'RelayAcceptance', 'ContentConsignment'];
    await waitFor(
      () =>
        events.every((e) => deliveriesOf(ERP.path, id).some((d) => d.body.event === e)) ? true : undefined,
      { what: 'three evidence webhooks', timeoutMs: 40_000 },
    );
    const trust = loadTrustStore([devPkiLayout(pkiDir).caCert, devPkiLayout(pkiDir).caCrl]);
    const chain = await accessPointInternals(net.c2).context.store.listEvidence(id);
    for (const event of events) {
      const post = deliveriesOf(ERP.path, id).find((d) => d.body.event === event)!;
      const evidence = chain.find((e) => e.event === event)!;
      // webhook-id is the evidence id: the same on every retry, so the ERP can drop a repeat.
      expect(post.headers['webhook-id']).toBe(evidence.id);
      expect(post.body.evidenceId).toBe(evidence.id);
      expect(post.body.evidenceXml).toBe(evidence.xml);
      expect(post.body.evidenceUrl).toBe(`${net.c2.url}/api/v1/evidence/${evidence.id}`);
      const timestamp = String(post.headers['webhook-timestamp']);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
      expect(post.headers['webhook-signature']).toBe(
        opensslSignature(secrets.erp, evidence.id, timestamp, post.raw),
      );
      // The same check fails on a body changed by one character, and under another sender's secret.
      expect(post.headers['webhook-signature']).not.toBe(
        opensslSignature(
          secrets.erp,
          evidence.id,
          timestamp,
          post.raw.replace('webhook test', 'webhook tesT'),
        ),
      );
      expect(post.headers['webhook-signature']).not.toBe(
        opensslSignature(secrets.flaky, evidence.id, timestamp, post.raw),
      );
      const report = await verifyEvidence(String(post.body.evidenceXml), { trust });
      expect(report.indication).toBe('TOTAL-PASSED');
    }
    // The URL the body names serves the same evidence to the sender.
    const first = deliveriesOf(ERP.path, id)[0]!;
    const fetched = await fetch(String(first.body.evidenceUrl), {
      headers: { authorization: `Bearer ${ERP.key}` },
    });
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe(first.body.evidenceXml);
  });

  it('a failing ERP endpoint (503) is retried with the same webhook-id until it takes the evidence', async () => {
    const id = await submit(FLAKY, RECIPIENT.id);
    const acceptance = await waitFor(
      async () =>
        (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
          (e) => e.event === 'SubmissionAcceptance',
        ),
      { what: 'SubmissionAcceptance' },
    );
    await waitFor(() => (flakyAttempts.get(acceptance.id) === 3 ? true : undefined), {
      what: 'third attempt at the flaky ERP',
      timeoutMs: 30_000,
    });
    const posts = deliveriesOf(FLAKY.path, id).filter((d) => d.body.evidenceId === acceptance.id);
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((p) => p.headers['webhook-id']))).toEqual(new Set([acceptance.id]));
    for (const p of posts)
      expect(p.headers['webhook-signature']).toBe(
        opensslSignature(secrets.flaky, acceptance.id, String(p.headers['webhook-timestamp']), p.raw),
      );
  });

  it('an ERP endpoint that is gone (410) is not retried: the job is kept as a dead letter for the operator', async () => {
    const id = await submit(GONE, RECIPIENT.id);
    const acceptance = await waitFor(
      async () =>
        (await accessPointInternals(net.c2).context.store.listEvidence(id)).find(
          (e) => e.event === 'SubmissionAcceptance',
        ),
      { what: 'SubmissionAcceptance' },
    );
    const dead = await waitFor(
      async () =>
        (await accessPointInternals(net.c2).context.store.listDeadLetters()).find(
          (d) => d.stage === 'evidence-webhook' && d.messageId === id && d.data.evidenceId === acceptance.id,
        ),
      { what: 'dead letter of the 410 webhook', timeoutMs: 30_000 },
    );
    expect(dead.lastError).toMatch(/HTTP 410/);
    expect(deliveriesOf(GONE.path, id).filter((d) => d.body.evidenceId === acceptance.id)).toHaveLength(1);
    // The message itself is not affected: the evidence copy is not the delivery.
    await waitFor(
      async () =>
        (await accessPointInternals(net.c2).context.store.getMessage(id))?.state === 'relayed'
          ? true
          : undefined,
      { what: 'message relayed' },
    );
  });

  it("the recipient's store-and-notify notice is signed with the recipient's own secret", async () => {
    const id = await submit(ERP, NOTIFIED.id);
    const c2 = await accessPointInternals(net.c2).context.store.getMessage(id);
    const notice = await waitFor(
      () => deliveries.find((d) => d.path === NOTIFIED.path && d.body.ebmsMessageId === c2!.ebmsMessageId),
      { what: 'notice', timeoutMs: 40_000 },
    );
    expect(notice.body.type).toBe('ConsignmentNotification');
    const webhookId = String(notice.headers['webhook-id']);
    expect(webhookId).not.toBe('');
    expect(notice.headers['webhook-signature']).toBe(
      opensslSignature(secrets.notified, webhookId, String(notice.headers['webhook-timestamp']), notice.raw),
    );
  });

  it('every webhook body sent above is as the contract describes it (senderEvidence, recipientNotice)', () => {
    const contract = loadContract();
    const kinds = deliveries.map((d) => (d.path === NOTIFIED.path ? 'recipientNotice' : 'senderEvidence'));
    expect(new Set(kinds)).toEqual(new Set(['senderEvidence', 'recipientNotice']));
    expect(deliveries.flatMap((d, i) => webhookViolations(contract, kinds[i]!, d.body))).toEqual([]);
  });

  it('refuses a webhook secret that is not whsec_ and a base64 key of 24 bytes or more', () => {
    const entry = (webhookSecret: string) => ({
      apiKeys: [{ key: 'k'.repeat(16), participant: '0188:1', name: 'x', webhookSecret }],
    });
    expect(configSchema.safeParse(entry(secretOf())).success).toBe(true);
    expect(configSchema.safeParse(entry('not-a-secret')).success).toBe(false);
    expect(configSchema.safeParse(entry(`whsec_${randomBytes(8).toString('base64')}`)).success).toBe(false);
  });
});
