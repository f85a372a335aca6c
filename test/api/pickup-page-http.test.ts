import { devApId } from '../../src/pki/dev-ap-id.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { base32Decode, totp } from '../../src/api/totp.js';
import { loadConfig } from '../../src/config/index.js';
import { parseParticipantId } from '../../src/core/index.js';
import { PickupLinks } from '../../src/pipeline/index.js';
import { hashPassword } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * The pickup page over plain HTTP (no browser): the refusals a person can meet before any content is near —
 * unknown and expired links get one and the same page, a form post without its CSRF token is refused, a wrong
 * code counts against the link together with the JSON route's, a forged session is no session — and the
 * link's token never reaches the log. The path to the content is the browser test's (test/page/pickup-page.test.ts).
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-pickup-page-http-'));
const PERSON = '0188:2222222222222';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const PASSWORD = 'correct horse battery staple';
const LINK_SECRET = 'pickup-page-link-secret-0123456789abcdef';
const recipient = parseParticipantId(PERSON);
const logLines: string[] = [];
let ap: AccessPoint;

beforeAll(async () => {
  const config = loadConfig({
    env: {},
    overrides: {
      ap: { id: devApId('c3'), name: 'Pickup Page HTTP AP' },
      http: { port: 0 },
      store: { sqliteFile: ':memory:', blobDir: join(work, 'blobs') },
      pki: { dir: sharedTestPki().dir, apName: 'c3' },
      pickup: { secret: LINK_SECRET, ttlSeconds: 600, maxAttempts: 5 },
      accounts: [
        {
          participant: PERSON,
          name: 'Hanako Yamada',
          ial: 2,
          credentials: [
            { kind: 'totp', secretBase32: TOTP_SECRET },
            { kind: 'password', passwordHash: await hashPassword(PASSWORD) },
          ],
        },
      ],
      log: { level: 'info' },
    },
  });
  const log = pino(
    { level: 'info' },
    new Writable({ write: (chunk: Buffer, _e, done) => void (logLines.push(chunk.toString()), done()) }),
  );
  ap = await createAccessPoint(config, { logger: log });
  await ap.start();
}, 60_000);

afterAll(async () => {
  await ap?.stop();
  rmSync(work, { recursive: true, force: true });
});

const link = (messageId = 'no-such-message') =>
  accessPointInternals(ap).context.pickupLinks!.buildPickupLink(messageId, recipient);
const tokenOf = (url: string) => url.split('/pickup/')[1]!;
/** The page with the address it was asked for taken out (its language switch leads back to that address). */
const alike = (html: string, token: string) => html.split(token).join('TOKEN');
const wrongCode = () =>
  String((Number(totp(base32Decode(TOTP_SECRET), new Date())) + 500_000) % 1_000_000).padStart(6, '0');

/** GET the link's page as a browser would: the form, its CSRF token, and the cookie it set. */
async function openForm(url: string, lang = 'en') {
  const res = await fetch(url, { headers: { 'accept-language': lang } });
  const html = await res.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { res, html, csrf, cookie };
}

async function postForm(url: string, fields: Record<string, string>, cookie?: string) {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

describe('the pickup page without a browser', () => {
  it('a valid link shows the second-factor form (both enrolled factors), with a strict CSP, no caching and a CSRF cookie', async () => {
    const { res, html, csrf, cookie } = await openForm(link());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('data-factor="totp"');
    expect(html).toContain('data-factor="password"');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(res.headers.get('set-cookie')).toMatch(
      /^qerds_pickup_form=[A-Za-z0-9_-]+; Path=\/pickup; HttpOnly; SameSite=Strict/,
    );
    expect(cookie).toMatch(/^qerds_pickup_form=/);
  });

  it('Accept-Language ja gives the form in Japanese', async () => {
    const { html } = await openForm(link(), 'ja,en;q=0.5');
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('認証アプリに表示されるコード');
  });

  it('unknown, tampered and expired links get the same page, alike (404), with and without a form post', async () => {
    const good = tokenOf(link());
    const [payload, mac] = good.split('.');
    const tampered = `${payload}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    const past = new PickupLinks({
      secret: LINK_SECRET,
      baseUrl: ap.url,
      ttlSeconds: 600,
      clock: { now: () => new Date(Date.now() - 2 * 3_600_000) },
    });
    const expired = tokenOf(past.buildPickupLink('no-such-message', recipient));
    const answers = await Promise.all(
      ['not-a-token', tampered, expired].map(async (token) => {
        const res = await fetch(`${ap.url}/pickup/${token}`);
        return { status: res.status, html: alike(await res.text(), token) };
      }),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.html).toContain('data-notice="linkInvalid"');
      expect(answer.html).toBe(answers[0]!.html);
    }
    const posted = await postForm(`${ap.url}/pickup/${expired}`, { totp: '123456', csrf: 'x' });
    expect(posted.status).toBe(404);
    expect(alike(posted.html, expired)).toBe(answers[0]!.html);
  });

  it("a form post without the CSRF token, with a token but no cookie, or with another link's token is refused (403) and counts no attempt", async () => {
    const url = link();
    const other = await openForm(link());
    const { csrf, cookie } = await openForm(url);
    const good = totp(base32Decode(TOTP_SECRET), new Date());
    const missing = await postForm(url, { totp: good }, cookie);
    const noCookie = await postForm(url, { totp: good, csrf: csrf! });
    const foreign = await postForm(url, { totp: good, csrf: other.csrf! }, other.cookie);
    for (const answer of [missing, noCookie, foreign]) {
      expect(answer.status).toBe(403);
      expect(answer.html).toContain('data-notice="formExpired"');
      expect(answer.headers.get('set-cookie') ?? '').not.toContain('qerds_pickup=');
    }
    // Nothing was counted against the link: five wrong codes are still needed to lock it.
    for (let i = 4; i >= 1; i--)
      expect((await postForm(url, { totp: wrongCode(), csrf: csrf! }, cookie)).html).toContain(
        `${i} ${i === 1 ? 'try' : 'tries'} left`,
      );
  });

  it('a wrong code: 401, the form again with the tries left, no session; the JSON route and the page count together', async () => {
    const url = link();
    const { csrf, cookie } = await openForm(url);
    const wrong = await postForm(url, { totp: wrongCode(), csrf: csrf! }, cookie);
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('data-message="wrongFactor"');
    expect(wrong.html).toContain('4 tries left');
    expect(wrong.headers.get('set-cookie') ?? '').not.toContain('qerds_pickup=');
    for (let i = 0; i < 3; i++) {
      const json = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'not it' }),
      });
      expect(json.status).toBe(401);
    }
    // Four wrong so far: the fifth locks the link, and then even the right code is refused.
    const last = await postForm(url, { password: 'still not it', csrf: csrf! }, cookie);
    expect(last.status).toBe(403);
    expect(last.html).toContain('data-notice="locked"');
    const right = await postForm(
      url,
      { totp: totp(base32Decode(TOTP_SECRET), new Date()), csrf: csrf! },
      cookie,
    );
    expect(right.status).toBe(403);
    expect(right.html).toContain('data-notice="locked"');
  });

  it('no factor typed: 400 with the form again', async () => {
    const url = link();
    const { csrf, cookie } = await openForm(url);
    const empty = await postForm(url, { totp: '', csrf: csrf! }, cookie);
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('data-message="factorRequired"');
  });

  it('the right code for a link whose message is not here: the same page as an unknown link, and no session', async () => {
    const url = link('message-that-is-not-here');
    const { csrf, cookie } = await openForm(url);
    const answer = await postForm(
      url,
      { totp: totp(base32Decode(TOTP_SECRET), new Date()), csrf: csrf! },
      cookie,
    );
    expect(answer.status).toBe(404);
    expect(alike(answer.html, tokenOf(url))).toBe(
      alike(await (await fetch(`${ap.url}/pickup/not-a-token`)).text(), 'not-a-token'),
    );
    expect(answer.headers.get('set-cookie') ?? '').not.toContain('qerds_pickup=');
  });

  it('without a session, or with a forged one, the message pages answer "session ended" and hand nothing out', async () => {
    for (const path of [
      '/pickup/session',
      '/pickup/session/parts/part-1',
      '/pickup/session/evidence/x.xml',
    ]) {
      const none = await fetch(`${ap.url}${path}`);
      expect(none.status).toBe(401);
      expect(await none.text()).toContain('data-notice="sessionEnded"');
      const forged = Buffer.from(
        JSON.stringify({
          l: 'x',
          m: 'y',
          r: PERSON,
          im: 'm',
          ii: 2,
          ia: 2,
          it: 0,
          f: 'nonce',
          e: 9_999_999_999,
        }),
      ).toString('base64url');
      const res = await fetch(`${ap.url}${path}`, { headers: { cookie: `qerds_pickup=${forged}.AAAA` } });
      expect(res.status).toBe(401);
    }
    const post = await postForm(`${ap.url}/pickup/session/accept`, { csrf: 'x' });
    expect(post.status).toBe(401);
  });

  it('the link token never reaches the log, neither the payload nor the MAC', async () => {
    const url = link();
    const { csrf, cookie } = await openForm(url);
    await postForm(url, { totp: wrongCode(), csrf: csrf! }, cookie);
    const text = logLines.join('');
    expect(text).toMatch(/pickup refused: wrong second factor/);
    const [payload, mac] = tokenOf(url).split('.');
    expect(text).not.toContain(payload!);
    expect(text).not.toContain(mac!);
    expect(text).not.toContain(csrf!);
  });

  // Last: it leaves this client stopped for 15 minutes.
  it('one client with wrong factors over many links is stopped (429, page and JSON alike), even before any link locks', async () => {
    let answer: Awaited<ReturnType<typeof postForm>> | undefined;
    for (let i = 0; i < 25; i++) {
      const url = link();
      const { csrf, cookie } = await openForm(url);
      answer = await postForm(url, { totp: wrongCode(), csrf: csrf! }, cookie);
      if (answer.status === 429) break;
      expect(answer.status).toBe(401);
    }
    expect(answer!.status).toBe(429);
    expect(answer!.html).toContain('data-notice="tooMany"');
    expect(answer!.headers.get('retry-after')).toBe('900');
    const json = await fetch(link(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ totp: totp(base32Decode(TOTP_SECRET), new Date()) }),
    });
    expect(json.status).toBe(429);
    expect(((await json.json()) as { code: string }).code).toBe('PICKUP_TOO_MANY_ATTEMPTS');
  });
});
