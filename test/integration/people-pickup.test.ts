import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../src/api/totp.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { parseParticipantId } from '../../src/core/index.js';
import { parseEvidenceXml } from '../../src/evidence/index.js';
import { PickupLinks } from '../../src/pipeline/index.js';
import { hashPassword } from '../../src/smtp/index.js';
import { waitFor } from '../helpers/wait.js';
import { duplicateKeys } from '../helpers/json-duplicate-keys.js';
import { PICKUP_LINK_TOTP_METHOD } from '../../src/api/methods.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * People pick up content at C3 (REQ4) with a signed one-time link plus a second factor: a TOTP code
 * (AAL2) or a password (AAL1). ContentHandover records the method and the level. A reused, expired or
 * tampered link, or a wrong TOTP, gets a 401/403 problem+json and no handover evidence.
 */

const work = mkdtempSync(join(tmpdir(), 'qerds-pickup-'));
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const PASSWORD = 'correct horse battery staple';
const LINK_SECRET = 'pickup-link-secret-for-tests-0123456789';
const recipient = parseParticipantId(RECIPIENT.id);
let net: TwoAccessPoints;
const c3Log: string[] = [];

async function deliveredToC3(subject: string, body: string, ...more: string[]): Promise<string> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject }));
  form.append('payload', new Blob([body], { type: 'text/plain' }), 'letter.txt');
  for (const [i, extra] of more.entries())
    form.append('payload', new Blob([extra], { type: 'text/plain' }), `annex-${i + 1}.txt`);
  await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
  const item = await waitFor(
    async () =>
      (await api<Array<{ id: string; subject?: string }>>(net.c3.url, RECIPIENT.key, '/api/v1/inbox')).find(
        (m) => m.subject === subject,
      ),
    { timeoutMs: 40_000, what: `"${subject}" at C3` },
  );
  return item.id;
}

async function pickUp(link: string, factor: Record<string, string>) {
  const response = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(factor),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

async function handoverEvidence(messageId: string) {
  return (await accessPointInternals(net.c3).context.store.listEvidence(messageId)).filter(
    (e) => e.event === 'ContentHandover',
  );
}

/** ContentHandover is sealed once the whole body was written, so it may land just after the client read it. */
async function sealedHandover(messageId: string) {
  return waitFor(
    async () => {
      const found = await handoverEvidence(messageId);
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: 20_000, what: 'ContentHandover' },
  );
}

beforeAll(async () => {
  const pkiDir = join(work, 'pki');
  await devTestPki(pkiDir);
  const passwordHash = await hashPassword(PASSWORD);
  net = await startTwoAccessPoints({
    outDir: join(work, 'aps'),
    pkiDir,
    logger: (ap) =>
      ap === 'c3'
        ? pino(
            { level: 'info' },
            new Writable({ write: (chunk: Buffer, _e, done) => void (c3Log.push(chunk.toString()), done()) }),
          )
        : undefined,
    overrides: (name) =>
      name === 'c3'
        ? {
            pickup: { secret: LINK_SECRET, ttlSeconds: 600 },
            accounts: [
              {
                participant: RECIPIENT.id,
                name: RECIPIENT.name,
                ial: 2,
                credentials: [
                  { kind: 'totp', secretBase32: TOTP_SECRET },
                  { kind: 'password', passwordHash },
                ],
              },
            ],
          }
        : {},
  });
}, 90_000);
afterAll(() => net?.stop());

describe('people pickup: one-time link + second factor (REQ4)', () => {
  let first = '';
  let firstLink = '';

  it('a valid link and the right TOTP hand the content over; ContentHandover records link+TOTP at AAL2', async () => {
    first = await deliveredToC3('pickup by TOTP', 'Dear customer, your receipt.');
    firstLink = accessPointInternals(net.c3).context.pickupLinks!.buildPickupLink(first, recipient);
    expect(firstLink).toMatch(new RegExp(`^${net.c3.url}/pickup/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    const answer = await pickUp(firstLink, { totp: totp(base32Decode(TOTP_SECRET), new Date()) });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('Dear customer, your receipt.');
    const [evidence] = await sealedHandover(first);
    expect(evidence).toBeDefined();
    expect(evidence!.xml).toContain(
      '<AuthenticationMethod>urn:qerds-ap:authentication:pickup-link+totp</AuthenticationMethod>',
    );
    expect(parseEvidenceXml(evidence!.xml).recipient.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:pickup-link+totp',
      ial: 2,
      aal: 2,
      assuranceLevel: 'http://eidas.europa.eu/LoA/substantial',
    });
    expect((await accessPointInternals(net.c3).context.store.getMessage(first))?.state).toBe('delivered');
  });

  it('refuses the same link a second time (403, stored use), with a fresh TOTP', async () => {
    const again = await pickUp(firstLink, { totp: totp(base32Decode(TOTP_SECRET), new Date()) });
    expect(again.status).toBe(403);
    expect(again.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(again.text)).toMatchObject({ code: 'PICKUP_LINK_USED' });
    expect(await handoverEvidence(first)).toHaveLength(1);
  });

  it('several parts: one multipart/mixed body whose Content-Length is exact, handed over once', async () => {
    const id = await deliveredToC3('pickup of two parts', 'The letter.', 'The annex, ünïcode too.');
    const link = accessPointInternals(net.c3).context.pickupLinks!.buildPickupLink(id, recipient);
    const response = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const boundary = /^multipart\/mixed; boundary="([^"]+)"$/.exec(
      response.headers.get('content-type') ?? '',
    )?.[1];
    expect(boundary).toBeDefined();
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-length')).toBe(String(body.length));
    const text = body.toString('utf8');
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    expect(text).toContain('Content-Disposition: attachment; filename="letter.txt"\r\n');
    expect(text).toContain('\r\n\r\nThe letter.\r\n');
    expect(text).toContain('\r\n\r\nThe annex, ünïcode too.\r\n');
    expect((await sealedHandover(id)).map((e) => e.event)).toEqual(['ContentHandover']);
  });

  describe('refusals hand nothing over', () => {
    let second = '';
    let link = '';
    beforeAll(async () => {
      second = await deliveredToC3('pickup refused', 'Not for the wrong hands.');
      link = accessPointInternals(net.c3).context.pickupLinks!.buildPickupLink(second, recipient);
    }, 60_000);

    const expectNothingHandedOver = async () => {
      expect(await handoverEvidence(second)).toEqual([]);
      expect((await accessPointInternals(net.c3).context.store.getMessage(second))?.state).not.toBe(
        'delivered',
      );
    };

    it('a wrong TOTP: 401 PICKUP_FACTOR_INVALID', async () => {
      const good = totp(base32Decode(TOTP_SECRET), new Date());
      const wrong = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0');
      const answer = await pickUp(link, { totp: wrong });
      expect(answer.status).toBe(401);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'PICKUP_FACTOR_INVALID' });
      await expectNothingHandedOver();
      // The refusal is logged, without the link's token (a bearer secret until used).
      expect(c3Log.join('')).toMatch(/pickup refused: wrong second factor/);
      expect(c3Log.join('')).not.toContain(link.split('/pickup/')[1]!.split('.')[1]!);
      // The factor has a name of its own beside the request's method: no line names a field twice.
      const refusal = c3Log.find((l) => l.includes('pickup refused: wrong second factor'))!;
      expect(JSON.parse(refusal)).toMatchObject({ method: 'POST', factor: PICKUP_LINK_TOTP_METHOD });
      expect(c3Log.flatMap((l) => duplicateKeys(l))).toEqual([]);
    });

    it('a tampered link: 401 PICKUP_LINK_INVALID', async () => {
      const token = link.split('/pickup/')[1]!;
      const payload = Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8');
      // The same MAC over a payload naming a later expiry: the MAC no longer matches.
      const edited = Buffer.from(
        payload.replace(/"exp":(\d+)/, (_m, exp: string) => `"exp":${Number(exp) + 86_400}`),
      ).toString('base64url');
      const answer = await pickUp(`${net.c3.url}/pickup/${edited}.${token.split('.')[1]}`, {
        totp: totp(base32Decode(TOTP_SECRET), new Date()),
      });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'PICKUP_LINK_INVALID' });
      await expectNothingHandedOver();
    });

    it('an expired link: 401 PICKUP_LINK_EXPIRED', async () => {
      // Made with the AP's key two hours ago, valid for ten minutes.
      const past = new PickupLinks({
        secret: LINK_SECRET,
        baseUrl: net.c3.url,
        ttlSeconds: 600,
        clock: { now: () => new Date(Date.now() - 2 * 3_600_000) },
      });
      const answer = await pickUp(past.buildPickupLink(second, recipient), {
        totp: totp(base32Decode(TOTP_SECRET), new Date()),
      });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'PICKUP_LINK_EXPIRED' });
      await expectNothingHandedOver();
    });

    it('no second factor: 401 PICKUP_FACTOR_REQUIRED', async () => {
      const answer = await pickUp(link, {});
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'PICKUP_FACTOR_REQUIRED' });
      await expectNothingHandedOver();
    });

    it('locks a link after pickup.maxAttempts wrong TOTPs (default 5): then even the right one gets 403', async () => {
      const other = accessPointInternals(net.c3).context.pickupLinks!.buildPickupLink(second, recipient);
      const good = totp(base32Decode(TOTP_SECRET), new Date());
      const wrong = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 5; i++) expect((await pickUp(other, { totp: wrong })).status).toBe(401);
      const locked = await pickUp(other, { totp: good });
      expect(locked.status).toBe(403);
      expect(JSON.parse(locked.text)).toMatchObject({ code: 'PICKUP_LINK_LOCKED' });
      await expectNothingHandedOver();
    });

    it('the link survives those refusals: with the password it hands over, ContentHandover at AAL1', async () => {
      const answer = await pickUp(link, { password: PASSWORD });
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('Not for the wrong hands.');
      const [evidence] = await sealedHandover(second);
      expect(parseEvidenceXml(evidence!.xml).recipient.identification).toMatchObject({
        method: 'urn:qerds-ap:authentication:pickup-link+password',
        ial: 2,
        aal: 1,
        assuranceLevel: 'http://eidas.europa.eu/LoA/low',
      });
    });
  });
});
