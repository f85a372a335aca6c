import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { evidenceWebhookBody } from '../../src/access-point/sender-webhooks.js';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

interface MessageJson {
  id: string;
  state: string;
  recipient: string;
  reference?: string;
  submittedAt: string;
}

/** GET /api/v1/messages (what the sender submitted, filtered and paged) and the sender's `reference`, on a real C2. */
describe('GET /api/v1/messages and the submission reference', () => {
  useOpenApiContract();
  const work = mkdtempSync(join(tmpdir(), 'qerds-sent-'));
  let net: TwoAccessPoints;
  const submitted: MessageJson[] = [];

  const get = (path: string, key = SENDER.key) =>
    fetch(`${net.c2.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const submit = async (metadata: Record<string, unknown>) => {
    const form = new FormData();
    form.set('metadata', JSON.stringify(metadata));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'invoice.xml');
    return fetch(`${net.c2.url}/api/v1/messages`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${SENDER.key}` },
    });
  };

  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({ outDir: join(work, 'aps'), pkiDir });
    for (let i = 0; i < 5; i++) {
      const res = await submit({ recipient: RECIPIENT.id, subject: `order ${i}`, reference: `PO-${i}` });
      expect(res.status).toBe(201);
      submitted.push((await res.json()) as MessageJson);
    }
    // Refused at submission (no such recipient in the directory): state rejected.
    const refused = await submit({ recipient: '0188:0000000000000', reference: 'PO-unknown' });
    expect(refused.status).toBe(422);
  }, 120_000);

  afterAll(async () => {
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('returns the reference with the message everywhere: submission answer, GET /messages/{id}, the list, webhooks', async () => {
    expect(submitted.map((m) => m.reference)).toEqual(['PO-0', 'PO-1', 'PO-2', 'PO-3', 'PO-4']);
    const one = (await (await get(`/api/v1/messages/${submitted[2]!.id}`)).json()) as MessageJson;
    expect(one.reference).toBe('PO-2');
    const stored = await accessPointInternals(net.c2).context.store.getMessage(submitted[2]!.id);
    const evidence = (await accessPointInternals(net.c2).context.store.listEvidence(submitted[2]!.id))[0]!;
    expect(evidenceWebhookBody(stored!, evidence, net.c2.url).reference).toBe('PO-2');
  });

  it("lists the sender's messages newest first, by reference, recipient, state and time range", async () => {
    const list = async (query: string) => {
      const res = await get(`/api/v1/messages${query}`);
      expect(res.status, `${query}: ${await res.clone().text()}`).toBe(200);
      return (await res.json()) as MessageJson[];
    };
    const all = await list('');
    expect(all.map((m) => m.reference)).toEqual(['PO-unknown', 'PO-4', 'PO-3', 'PO-2', 'PO-1', 'PO-0']);
    expect((await list('?reference=PO-3')).map((m) => m.id)).toEqual([submitted[3]!.id]);
    expect((await list('?state=rejected')).map((m) => m.reference)).toEqual(['PO-unknown']);
    expect((await list(`?recipient=${encodeURIComponent(RECIPIENT.id)}`)).map((m) => m.reference)).toEqual([
      'PO-4',
      'PO-3',
      'PO-2',
      'PO-1',
      'PO-0',
    ]);
    const since = submitted[1]!.submittedAt;
    const until = submitted[3]!.submittedAt;
    const window = await list(`?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`);
    expect(window.every((m) => m.submittedAt >= since && m.submittedAt < until)).toBe(true);
    expect(window.map((m) => m.reference)).toContain('PO-1');
    expect(window.map((m) => m.reference)).not.toContain('PO-3');
    // Someone else's list does not show them: the recipient has no account at C2, so use its view at C3.
    const other = await fetch(`${net.c3.url}/api/v1/messages`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(((await other.json()) as MessageJson[]).map((m) => m.reference)).toEqual([]);
  });

  it('pages with Link rel="next", keeping the filters', async () => {
    const seen: string[] = [];
    let next: string | undefined = `/api/v1/messages?limit=2&recipient=${encodeURIComponent(RECIPIENT.id)}`;
    let pages = 0;
    while (next) {
      const res: Response = await get(next);
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as MessageJson[]).map((m) => m.reference!));
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      if (next) expect(next).toContain('recipient=');
      pages += 1;
    }
    expect(seen).toEqual(['PO-4', 'PO-3', 'PO-2', 'PO-1', 'PO-0']);
    expect(pages).toBe(3);
  });

  it('refuses unknown or malformed query parameters with 400 naming them, on /messages and /inbox', async () => {
    for (const [path, named] of [
      ['/api/v1/messages?stat=rejected', '"stat"'],
      ['/api/v1/messages?state=lost', '"lost"'],
      ['/api/v1/messages?since=yesterday', 'since'],
      ['/api/v1/messages?state=a&state=b', 'state'],
      ['/api/v1/messages?limit=0', 'limit'],
      ['/api/v1/messages?after=bm90LWEtY3Vyc29y', 'cursor'],
      ['/api/v1/inbox?state=consigned', '"state"'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { detail: string }).detail, path).toContain(named);
    }
  });

  it('serves the OpenAPI description without authentication, GET /messages in it', async () => {
    const res = await fetch(`${net.c2.url}/api/v1/openapi.yaml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/yaml/);
    const spec = parseYaml(await res.text()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    };
    expect(spec.paths['/messages']!.get!.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(['state', 'recipient', 'since', 'until', 'reference']),
    );
    expect(spec.paths['/messages']!.post!.parameters!.map((p) => p.name)).toContain('Idempotency-Key');
  });

  it('refuses a reference that is empty or too long', async () => {
    expect((await submit({ recipient: RECIPIENT.id, reference: '' })).status).toBe(400);
    expect((await submit({ recipient: RECIPIENT.id, reference: 'x'.repeat(257) })).status).toBe(400);
  });

  it('refuses an unknown metadata key (a typo such as "refernce") with 400 naming it, instead of dropping it', async () => {
    const res = await submit({ recipient: RECIPIENT.id, refernce: 'PO-typo' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain('"refernce"');
    expect(
      (await accessPointInternals(net.c2).context.store.listSent({ sender: SENDER.id })).messages.some(
        (m) => m.subject === undefined && m.reference === undefined,
      ),
    ).toBe(false);
  });
});
