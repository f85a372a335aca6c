import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, RECIPIENT, type TwoAccessPoints } from '../../src/harness/two-access-points.js';
import { sendValidMessage, startTarget } from './support.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * ContentHandover is proof that content went out, so HEAD (headers only) must not seal it;
 * a GET seals it once the whole body was written. And C3 answers a message id that is missing and one
 * that is someone else's alike (same status, same text), on the inbox, part and evidence routes.
 */
const OTHER = {
  id: '0188:4444444444444',
  name: 'Another recipient at C3',
  key: 'other-recipient-key-0123456789abcd',
};

describe('handover attacks', () => {
  let net: TwoAccessPoints;
  let c3Id: string;
  beforeAll(async () => {
    // A second local recipient at C3, for "not yours".
    net = await startTarget('handover', {
      extraParticipants: [{ ...OTHER, servedBy: 'c3', account: { key: OTHER.key } }],
    });
    const c2Id = await sendValidMessage(net);
    c3Id = await waitFor(
      async () => {
        const inbox = await api<Array<{ id: string; ebmsMessageId: string; state: string }>>(
          net.c3.url,
          RECIPIENT.key,
          '/api/v1/inbox',
        );
        const sent = await accessPointInternals(net.c2).context.store.getMessage(c2Id);
        const mine = inbox.find((m) => m.ebmsMessageId === sent?.ebmsMessageId);
        return mine && mine.state === 'consigned' ? mine.id : undefined;
      },
      { timeoutMs: 30_000 },
    );
  }, 180_000);
  afterAll(() => net?.stop());

  const events = async () =>
    (await accessPointInternals(net.c3).context.store.listEvidence(c3Id)).map((e) => e.event);
  const partUrl = async () => {
    const entry = await api<{ parts: Array<{ href: string }> }>(
      net.c3.url,
      RECIPIENT.key,
      `/api/v1/inbox/${c3Id}`,
    );
    return `${net.c3.url}${entry.parts[0]!.href}`;
  };

  it('HEAD on a part answers its headers and seals no ContentHandover', async () => {
    const res = await fetch(await partUrl(), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('digest')).toMatch(/^sha-256=/);
    expect(await events()).not.toContain('ContentHandover');
    expect((await accessPointInternals(net.c3).context.store.getMessage(c3Id))?.state).toBe('consigned');
  });

  it("answers a missing message and another recipient's message alike", async () => {
    const url = await partUrl();
    const asOther = (u: string) => fetch(u, { headers: { authorization: `Bearer ${OTHER.key}` } });
    const MISSING = 'msg-that-does-not-exist';
    const [theirs, none] = await Promise.all([asOther(url), asOther(url.replace(c3Id, MISSING))]);
    expect(theirs.status).toBe(404);
    expect(none.status).toBe(404);
    // The text may repeat the id asked for, and nothing else may differ.
    const detail = async (r: Response, id: string) =>
      ((await r.json()) as { detail: string }).detail.replace(id, 'ID');
    expect(await detail(theirs, c3Id)).toBe(await detail(none, MISSING));
    for (const path of [`/api/v1/inbox/${c3Id}`, `/api/v1/messages/${c3Id}`]) {
      const [a, b] = await Promise.all([
        asOther(`${net.c3.url}${path}`),
        asOther(`${net.c3.url}${path.replace(c3Id, MISSING)}`),
      ]);
      expect([a.status, b.status]).toEqual([404, 404]);
      expect(await detail(a, c3Id)).toBe(await detail(b, MISSING));
    }
    const evidenceId = (await accessPointInternals(net.c3).context.store.listEvidence(c3Id))[0]!.id;
    const [e1, e2] = await Promise.all([
      asOther(`${net.c3.url}/api/v1/evidence/${evidenceId}`),
      asOther(`${net.c3.url}/api/v1/evidence/${evidenceId}x`),
    ]);
    expect([e1.status, e2.status]).toEqual([404, 404]);
    expect(await detail(e1, evidenceId)).toBe(await detail(e2, `${evidenceId}x`));
    expect(await events()).not.toContain('ContentHandover');
  });

  it('GET hands the content over and seals ContentHandover after the body', async () => {
    const res = await fetch(await partUrl(), { headers: { authorization: `Bearer ${RECIPIENT.key}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<Invoice>after the attack</Invoice>');
    await waitFor(async () => ((await events()).includes('ContentHandover') ? true : undefined), {
      timeoutMs: 20_000,
    });
    expect((await events()).filter((e) => e === 'ContentHandover')).toHaveLength(1);
  });
});
