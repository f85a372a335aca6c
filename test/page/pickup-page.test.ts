import { accessPointInternals } from '../../src/access-point/internals.js';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../src/api/totp.js';
import {
  api,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import type { EvidenceEvent, MessageState } from '../../src/core/index.js';
import { parseEvidenceXml, verifyEvidence } from '../../src/evidence/index.js';
import { hashPassword } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { startTlsSink } from '../smtp/mail-fixtures.js';
import type { SmtpSink } from '../smtp/smtp-sink.js';
import { launchChromium } from './page-ap.js';

/**
 * The recipient's pickup page in a real browser, from the link in the notification mail to the download:
 * in English a person with a TOTP app (store-and-notify), in Japanese a person with a password whose policy
 * asks for acceptance first. ContentHandover exists only once a document was downloaded (not after the
 * second factor, not after a HEAD), and it verifies.
 */
const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts');
const work = mkdtempSync(join(tmpdir(), 'qerds-pickup-page-'));
const TOTP_SECRET = 'KRUGKIDROVUWG2ZAMJZG653OEBTG66BA';
const PASSWORD = 'sakura-2026-haru';
/** Store-and-notify, TOTP. */
const NOTIFIED = {
  id: '0188:3000000000001',
  name: 'Pickup Person KK',
  key: 'pickup-notified-key-0123456789abc',
  email: 'person@c4.example',
};
/** Acceptance first, then store-and-notify; password. */
const ACCEPTING = {
  id: '0188:3000000000002',
  name: '受取花子商店',
  key: 'pickup-accepting-key-0123456789ab',
  email: 'hanako@c4.example',
};
const INVOICE = '<Invoice><ID>2026-001</ID><Total currency="JPY">110000</Total></Invoice>';
const TERMS = 'Payment within 30 days.\n30日以内にお支払いください。\n';

let net: TwoAccessPoints;
let sink: SmtpSink;
let browser: Browser;

beforeAll(async () => {
  const pki = sharedTestPki();
  const started = await startTlsSink(pki);
  sink = started.sink;
  const passwordHash = await hashPassword(PASSWORD);
  net = await startTwoAccessPoints({
    outDir: join(work, 'aps'),
    pkiDir: pki.dir,
    overrides: (name) =>
      name === 'c3'
        ? {
            smtp: { domain: 'c3.example', outbound: started.outbound },
            pickup: { secret: 'pickup-page-browser-secret-0123456789abcdef' },
            accounts: [
              {
                participant: NOTIFIED.id,
                name: NOTIFIED.name,
                ial: 2,
                credentials: [{ kind: 'totp', secretBase32: TOTP_SECRET }],
              },
              {
                participant: ACCEPTING.id,
                name: ACCEPTING.name,
                ial: 2,
                credentials: [{ kind: 'password', passwordHash }],
              },
            ],
          }
        : {},
    extraParticipants: [
      {
        ...NOTIFIED,
        servedBy: 'c3',
        account: { key: NOTIFIED.key, consignment: 'notify', deliveryEmail: NOTIFIED.email },
      },
      {
        ...ACCEPTING,
        servedBy: 'c3',
        account: {
          key: ACCEPTING.key,
          acceptance: 'required',
          consignment: 'notify',
          deliveryEmail: ACCEPTING.email,
        },
      },
    ],
  });
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await net?.stop();
  await sink?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Submits two documents at C2 for `recipient`. */
async function submit(recipient: { id: string }, subject: string): Promise<void> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: recipient.id, subject }));
  form.append('payload', new Blob([INVOICE], { type: 'application/xml' }), 'invoice.xml');
  form.append('payload', new Blob([TERMS], { type: 'text/plain' }), 'terms.txt');
  await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form });
}

/** The pickup link in the notification mail to `email` about `subject`, and the C3 message it names. */
async function linkInMail(email: string, subject: string): Promise<{ link: string; messageId: string }> {
  const pattern = new RegExp(`${net.c3.url.replace(/[.]/g, '\\.')}/pickup/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+`);
  const link = await waitFor(
    async () => {
      for (const mail of sink.mailsTo(email)) {
        const parsed = await simpleParser(mail.raw);
        if (!parsed.subject?.includes(subject)) continue;
        const found = pattern.exec(parsed.text ?? '')?.[0];
        if (found) return found;
      }
      return undefined;
    },
    { timeoutMs: 90_000, what: `the notification mail to ${email}` },
  );
  const payload = JSON.parse(
    Buffer.from(link.split('/pickup/')[1]!.split('.')[0]!, 'base64url').toString('utf8'),
  ) as { m: string };
  return { link, messageId: payload.m };
}

const evidenceAtC3 = async (messageId: string, event: EvidenceEvent) =>
  (await accessPointInternals(net.c3).context.store.listEvidence(messageId)).filter((e) => e.event === event);
const stateAtC3 = async (messageId: string): Promise<MessageState | undefined> =>
  (await accessPointInternals(net.c3).context.store.getMessage(messageId))?.state;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(artifacts, `pickup-${name}.png`), fullPage: true });

/** A request with the browser's own cookies (to try what a person's browser could send). */
async function withCookies(context: BrowserContext, path: string, init: RequestInit = {}): Promise<Response> {
  const cookie = (await context.cookies(`${net.c3.url}${path}`))
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
  return fetch(`${net.c3.url}${path}`, { ...init, redirect: 'manual', headers: { cookie } });
}

/** Downloads one document through the page's link; returns its bytes and the name the browser was given. */
async function download(page: Page, filename: string): Promise<{ text: string; name: string }> {
  const row = page.locator('tr[data-part]', { hasText: filename });
  const [file] = await Promise.all([page.waitForEvent('download'), row.locator('a[data-download]').click()]);
  return { text: readFileSync((await file.path())!, 'utf8'), name: file.suggestedFilename() };
}

/** The ContentHandover sealed at C3 once the download's last byte was written: it verifies against the AP's trust store. */
async function verifiedHandover(messageId: string) {
  const [handover] = await waitFor(
    async () => {
      const found = await evidenceAtC3(messageId, 'ContentHandover');
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: 30_000, what: 'ContentHandover at C3' },
  );
  const report = await verifyEvidence(handover!.xml, { trust: accessPointInternals(net.c3).trust });
  expect(report.indication, report.findings.map((f) => f.message).join('; ')).toBe('TOTAL-PASSED');
  expect(report.evidence?.event).toBe('ContentHandover');
  return handover!;
}

describe('the pickup page in a browser', () => {
  it('English, store-and-notify: from the mail link through the TOTP code to the download; ContentHandover only after the download, and it verifies', async () => {
    await submit(NOTIFIED, 'Invoice 2026-001');
    const { link, messageId } = await linkInMail(NOTIFIED.email, 'Invoice 2026-001');
    await waitFor(async () => ((await stateAtC3(messageId)) === 'consigned' ? true : undefined), {
      what: 'consigned at C3',
    });

    const context = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'Asia/Tokyo',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(link);
    await expect(page.locator('h1').textContent()).resolves.toBe('Registered message for you');
    expect(
      await page
        .locator('form[data-factor]')
        .evaluateAll((forms) => forms.map((f) => f.getAttribute('data-factor'))),
    ).toEqual(['totp']);
    await shot(page, 'signin-en');

    await page.fill('#totp', totp(base32Decode(TOTP_SECRET), new Date()));
    await Promise.all([
      page.waitForURL(/\/pickup\/session\?lang=en$/),
      page.click('form[data-factor=totp] button[type=submit]'),
    ]);
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('Invoice 2026-001');
    expect(await page.locator('[data-fact=sender]').textContent()).toContain(SENDER.id);
    expect(text).toContain('invoice.xml');
    expect(text).toContain('terms.txt');
    expect(text).toContain(sha256(INVOICE));
    expect(text).toContain(sha256(TERMS));
    expect(
      await page
        .locator('tr[data-part]', { hasText: 'invoice.xml' })
        .locator('[data-size]')
        .getAttribute('data-size'),
    ).toBe(String(Buffer.byteLength(INVOICE)));
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('open');
    await shot(page, 'message-en');

    // Identified, but nothing handed over yet: no ContentHandover, neither after the second factor nor after a HEAD.
    const partId = (await accessPointInternals(net.c3).context.store.getMessage(messageId))!.parts.find(
      (p) => p.filename === 'invoice.xml',
    )!.partId;
    const head = await withCookies(context, `/pickup/session/parts/${encodeURIComponent(partId)}`, {
      method: 'HEAD',
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(INVOICE)));
    expect(head.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(head.headers.get('content-disposition')).toMatch(/^attachment; filename="?invoice\.xml"?$/);
    expect(head.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(await evidenceAtC3(messageId, 'ContentHandover')).toEqual([]);
    expect(await page.locator('[data-evidence=ContentHandover]').count()).toBe(0);
    // The link is used up by the second factor: the JSON route refuses it now.
    expect(
      (
        await fetch(link, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ totp: totp(base32Decode(TOTP_SECRET), new Date()) }),
        })
      ).status,
    ).toBe(403);

    const invoice = await download(page, 'invoice.xml');
    expect(invoice).toEqual({ text: INVOICE, name: 'invoice.xml' });
    const handover = await verifiedHandover(messageId);
    expect(parseEvidenceXml(handover.xml).recipient.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:pickup-link+totp',
      aal: 2,
      ial: 2,
    });
    expect((await download(page, 'terms.txt')).text).toBe(TERMS);
    expect(await evidenceAtC3(messageId, 'ContentHandover')).toHaveLength(1);

    // Reloaded, the page offers the proof; the file the browser gets is the sealed evidence, byte for byte.
    await page.reload();
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('delivered');
    const item = page.locator('li[data-evidence=ContentHandover]');
    await expect(item.textContent()).resolves.toContain('Proof that you received the documents');
    const [proof] = await Promise.all([page.waitForEvent('download'), item.locator('a[download]').click()]);
    const proofFile = (await proof.path())!;
    expect(readFileSync(proofFile, 'utf8')).toBe(handover.xml);
    await shot(page, 'delivered-en');

    // And the public verification page finds it genuine.
    await page.goto(`${net.c3.url}/verify?lang=en`);
    await page.setInputFiles('#file', proofFile);
    await Promise.all([page.waitForURL(/\/verify\?lang=/), page.click('button[type=submit]')]);
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('valid');
    expect(requested.every((url) => url.startsWith(net.c3.url))).toBe(true);
    await context.close();
  });

  it('Japanese, acceptance first: the password, then 受諾 (accept), then the download; nothing goes out before the acceptance', async () => {
    await submit(ACCEPTING, '請求書 2026-002');
    const { link, messageId } = await linkInMail(ACCEPTING.email, '請求書 2026-002');
    await waitFor(async () => ((await stateAtC3(messageId)) === 'awaiting-acceptance' ? true : undefined), {
      what: 'awaiting acceptance at C3',
    });

    const context = await browser.newContext({
      locale: 'ja-JP',
      timezoneId: 'Asia/Tokyo',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    await page.goto(link);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('ja');
    await expect(page.locator('h1').textContent()).resolves.toBe('あなた宛ての書留メッセージ');
    expect(
      await page
        .locator('form[data-factor]')
        .evaluateAll((forms) => forms.map((f) => f.getAttribute('data-factor'))),
    ).toEqual(['password']);
    await shot(page, 'signin-ja');

    await page.fill('#password', PASSWORD);
    await Promise.all([
      page.waitForURL(/\/pickup\/session\?lang=ja$/),
      page.click('form[data-factor=password] button[type=submit]'),
    ]);
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('awaiting');
    expect(await page.locator('main').textContent()).toContain(
      '送信者は、ダウンロードの前にこのメッセージの受諾を求めています',
    );
    expect(await page.locator('a[data-download]').count()).toBe(0);
    await shot(page, 'acceptance-ja');
    // The download's address, tried directly before accepting: refused, nothing handed over.
    const partId = (await accessPointInternals(net.c3).context.store.getMessage(messageId))!.parts.find(
      (p) => p.filename === 'invoice.xml',
    )!.partId;
    expect((await withCookies(context, `/pickup/session/parts/${encodeURIComponent(partId)}`)).status).toBe(
      409,
    );
    expect(await evidenceAtC3(messageId, 'ContentHandover')).toEqual([]);

    await Promise.all([
      page.waitForURL(/\/pickup\/session\?lang=ja$/),
      page.click('form[data-answer=accept] button[type=submit]'),
    ]);
    const [acceptance] = await evidenceAtC3(messageId, 'ConsignmentAcceptance');
    expect(parseEvidenceXml(acceptance!.xml).recipient.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:pickup-link+password',
      aal: 1,
    });
    // The consignment that follows the acceptance (a new notice) settles first; then the documents are ready.
    await waitFor(async () => ((await stateAtC3(messageId)) === 'consigned' ? true : undefined), {
      what: 'consigned after the acceptance',
    });
    await page.reload();
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('open');
    expect(await evidenceAtC3(messageId, 'ContentHandover')).toEqual([]);

    expect((await download(page, 'invoice.xml')).text).toBe(INVOICE);
    const handover = await verifiedHandover(messageId);
    expect(parseEvidenceXml(handover.xml).recipient.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:pickup-link+password',
      aal: 1,
    });
    await page.reload();
    await expect(page.locator('li[data-evidence=ContentHandover]').textContent()).resolves.toContain(
      '文書を受け取ったことの証拠',
    );
    await shot(page, 'delivered-ja');
    await context.close();
  });

  it("refusing: the JSON route before the acceptance is 409 and leaves the link usable; a forged answer without the form token is refused (403); the person's refusal with a reason is ConsignmentRejection and nothing can be downloaded", async () => {
    await submit(ACCEPTING, '請求書 2026-004');
    const { link, messageId } = await linkInMail(ACCEPTING.email, '請求書 2026-004');
    await waitFor(async () => ((await stateAtC3(messageId)) === 'awaiting-acceptance' ? true : undefined), {
      what: 'awaiting acceptance at C3',
    });
    // The JSON route with the right password, before the acceptance: 409, and the link is not used up by it.
    const early = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { code: string }).code).toBe('STATE_CONFLICT');
    const context = await browser.newContext({ locale: 'ja-JP', acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(link);
    await page.fill('#password', PASSWORD);
    await Promise.all([
      page.waitForURL(/\/pickup\/session\?lang=ja$/),
      page.click('form[data-factor=password] button[type=submit]'),
    ]);

    // With the person's session cookie but without the page's token (what another site's form could send).
    const forged = await withCookies(context, '/pickup/session/accept', {
      method: 'POST',
      body: new URLSearchParams({}),
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('data-notice="formExpired"');
    expect(await stateAtC3(messageId)).toBe('awaiting-acceptance');

    await page.fill('#reason', '注文していません');
    await Promise.all([
      page.waitForURL(/\/pickup\/session\?lang=ja$/),
      page.click('form[data-answer=reject] button[type=submit]'),
    ]);
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('rejected');
    expect(await page.locator('a[data-download]').count()).toBe(0);
    const [rejection] = await evidenceAtC3(messageId, 'ConsignmentRejection');
    const data = parseEvidenceXml(rejection!.xml);
    expect(data.reason).toMatchObject({ code: 'RC08', details: '注文していません' });
    expect(data.recipient.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:pickup-link+password',
    });
    const partId = (await accessPointInternals(net.c3).context.store.getMessage(messageId))!.parts[0]!.partId;
    expect((await withCookies(context, `/pickup/session/parts/${encodeURIComponent(partId)}`)).status).toBe(
      409,
    );
    expect(await evidenceAtC3(messageId, 'ContentHandover')).toEqual([]);
    await shot(page, 'rejected-ja');
    await context.close();
  });

  it('the link works once: a second browser with the right factor gets the alike "cannot be used" page', async () => {
    await submit(NOTIFIED, 'Invoice 2026-003');
    const { link } = await linkInMail(NOTIFIED.email, 'Invoice 2026-003');
    const first = await browser.newContext({ locale: 'en-US' });
    const page = await first.newPage();
    await page.goto(link);
    await page.fill('#totp', totp(base32Decode(TOTP_SECRET), new Date()));
    await Promise.all([
      page.waitForURL(/\/pickup\/session/),
      page.click('form[data-factor=totp] button[type=submit]'),
    ]);
    // The same browser coming back through the link lands on its session.
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/pickup/session');

    const second = await browser.newContext({ locale: 'en-US' });
    const other = await second.newPage();
    await other.goto(link);
    await other.fill('#totp', totp(base32Decode(TOTP_SECRET), new Date()));
    await other.click('form[data-factor=totp] button[type=submit]');
    await expect(other.locator('[data-notice]').getAttribute('data-notice')).resolves.toBe('linkInvalid');
    await shot(other, 'used-en');
    await first.close();
    await second.close();
  });
});
