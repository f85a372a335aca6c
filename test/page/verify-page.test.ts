import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessPoint } from '../../src/access-point.js';
import { EVIDENCE_BUNDLE_FORMAT } from '../../src/evidence/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { buildRemMessage } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { submissionBody } from '../helpers/identification.js';
import { waitFor } from '../helpers/wait.js';
import { launchChromium, PAGE_RECIPIENT, startPageAp } from './page-ap.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

/**
 * The public verification page in a real browser (Debian's chromium through playwright-core): a person uploads
 * a proof and reads the verdict, in English and Japanese. The proofs are the AP's own, made through its API.
 * Screenshots go to test/artifacts/ for a person to look at.
 */
const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts');
const work = mkdtempSync(join(tmpdir(), 'qerds-verify-page-'));
const SENDER_KEY = 'page-sender-key-0123456789abcdef';
const SENDER = '0188:1234567890123';
const RECIPIENT = PAGE_RECIPIENT;
const INVOICE = '<Invoice>page test</Invoice>';

/** Files under the AP's blob directory (none yet while every payload was small enough for the database). */
const blobFiles = () =>
  existsSync(join(work, 'blobs')) ? readdirSync(join(work, 'blobs'), { recursive: true }).length : 0;

let ap: AccessPoint;
let browser: Browser;
const files: Record<
  'evidence' | 'tampered' | 'unrelated' | 'bundle' | 'invoice' | 'otherInvoice' | 'large' | 'rem',
  string
> = {} as never;

beforeAll(async () => {
  ap = await startPageAp({
    name: 'Page Test AP',
    work,
    apiKeys: [{ key: SENDER_KEY, participant: SENDER, name: 'Sample Trading Co., Ltd.' }],
  });

  const { body, contentType } = await submissionBody(
    { recipient: RECIPIENT, subject: 'Invoice 42' },
    INVOICE,
  );
  const submitted = await fetch(`${ap.url}/api/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${SENDER_KEY}` },
    body: new Uint8Array(body),
  });
  expect(submitted.status).toBe(201);
  const { id } = (await submitted.json()) as { id: string };
  const auth = { authorization: `Bearer ${SENDER_KEY}` };
  const chain = await waitFor(
    async () => {
      const list = (await (
        await fetch(`${ap.url}/api/v1/messages/${id}/evidence`, { headers: auth })
      ).json()) as { id: string; event: string }[];
      return list.some((e) => e.event === 'RelayFailure') ? list : undefined;
    },
    { timeoutMs: 120_000, what: 'the RelayFailure evidence' },
  );
  const xmls = await Promise.all(
    chain.map(async (e) => (await fetch(`${ap.url}/api/v1/evidence/${e.id}`, { headers: auth })).text()),
  );
  const submission = xmls[chain.findIndex((e) => e.event === 'SubmissionAcceptance')]!;
  mkdirSync(join(work, 'files'), { recursive: true });
  const put = (name: string, content: string | Buffer) => {
    const path = join(work, 'files', name);
    writeFileSync(path, content);
    return path;
  };
  files.evidence = put('SubmissionAcceptance.xml', submission);
  // One character of the subject's digest-covered content changed: the seal no longer matches.
  const tampered = submission.replace(SENDER.slice(-4), '9999');
  expect(tampered).not.toBe(submission);
  files.tampered = put('tampered.xml', tampered);
  files.unrelated = put('notes.txt', 'just some notes, not a proof');
  files.bundle = put(
    'export.json',
    JSON.stringify({
      format: EVIDENCE_BUNDLE_FORMAT,
      messageId: id,
      evidence: chain.map((e, i) => ({ id: e.id, event: e.event, xml: xmls[i] })),
    }),
  );
  files.invoice = put('invoice.xml', INVOICE);
  files.otherInvoice = put('other-invoice.xml', '<Invoice>changed</Invoice>');
  files.large = put('large.xml', Buffer.alloc(10 * 1024 * 1024 + 10, 0x20));
  // A REM message as a mail client saves it: C2's S/MIME seal around the original and the evidence.
  const pki = sharedTestPki();
  files.rem = put(
    'receipt.eml',
    buildRemMessage({
      event: 'SubmissionAcceptance',
      evidenceXml: submission,
      original: Buffer.from(`Subject: Invoice 42\r\nContent-Type: application/xml\r\n\r\n${INVOICE}\r\n`),
      subject: 'Invoice 42',
      from: { address: 'rem@ap.example', name: 'qerds-ap C2' },
      to: [{ address: 'keiri@sample-trading.example' }],
      signer: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey),
    }).raw,
  );

  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await ap?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function verifyInBrowser(
  locale: 'en-US' | 'ja-JP',
  file: string,
  documents: string[] = [],
): Promise<Page> {
  const context = await browser.newContext({ locale, timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  await page.goto(`${ap.url}/verify`);
  await page.setInputFiles('#file', file);
  if (documents.length > 0) await page.setInputFiles('#document', documents);
  await Promise.all([page.waitForURL(/\/verify\?lang=/), page.click('button[type=submit]')]);
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(artifacts, `verify-${name}.png`), fullPage: true });

describe('the public verification page in a browser', () => {
  it('GET / leads to the page; it needs no login and loads nothing from elsewhere', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${ap.url}/`);
    expect(page.url()).toBe(`${ap.url}/verify`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Verify a registered-delivery proof');
    expect(requested.every((url) => url.startsWith(ap.url))).toBe(true);
    await context.close();
  });

  it('a genuine evidence with the document it is about: valid, the event in words, parties, time, matching document (English)', async () => {
    const page = await verifyInBrowser('en-US', files.evidence, [files.invoice]);
    await shot(page, 'valid-en');
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('valid');
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('This proof is genuine and unchanged.');
    expect(text).toContain("The sender's provider accepted the message for registered delivery");
    expect(text).toContain(SENDER);
    expect(text).toContain(RECIPIENT);
    expect(text).toContain('Page Test AP');
    expect(text).toContain('matches the file you gave');
    expect(text).toContain('Time confirmed by the timestamp authority');
    // The page script adds the viewer's time zone (Asia/Tokyo) before the UTC time.
    expect(text).toMatch(/GMT\+9|JST/);
    expect(text).toContain('UTC');
    await page.context().close();
  });

  it('the same evidence with another document: still a genuine seal, but the document does NOT match', async () => {
    const page = await verifyInBrowser('en-US', files.evidence, [files.otherInvoice]);
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('does NOT match the file you gave');
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.not.toBe('valid');
    await page.context().close();
  });

  it('a tampered evidence: not valid, with the reason in one plain sentence (Japanese)', async () => {
    const page = await verifyInBrowser('ja-JP', files.tampered);
    await shot(page, 'tampered-ja');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('ja');
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('invalid');
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('無効');
    expect(text).toContain('この証明は信頼してはいけません。');
    expect(text).toMatch(/封印の後で内容が変更されています|封印が内容と一致しません/);
    await page.context().close();
  });

  it('a tampered evidence in English', async () => {
    const page = await verifyInBrowser('en-US', files.tampered);
    await shot(page, 'tampered-en');
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('invalid');
    expect(await page.locator('.reason').textContent()).toMatch(
      /changed after it was sealed|does not match the content/,
    );
    await page.context().close();
  });

  it('an unrelated file: a clear message that it is not a proof, in both languages', async () => {
    for (const [locale, words, name] of [
      ['en-US', 'This file is not a proof this page can check', 'unrelated-en'],
      ['ja-JP', 'このファイルは、このページで確認できる証明', 'unrelated-ja'],
    ] as const) {
      const page = await verifyInBrowser(locale, files.unrelated);
      await shot(page, name);
      await expect(page.locator('[data-message]').getAttribute('data-message')).resolves.toBe('unknownKind');
      expect(await page.locator('[data-message]').textContent()).toContain(words);
      await page.context().close();
    }
  });

  it('an export bundle: the whole history as a timeline, in both languages', async () => {
    const en = await verifyInBrowser('en-US', files.bundle);
    await shot(en, 'bundle-en');
    await expect(en.locator('.timeline li').count()).resolves.toBe(2);
    const text = (await en.locator('.timeline').textContent())!;
    expect(text).toContain("The sender's provider accepted the message for registered delivery");
    expect(text).toContain("The message could not be passed on to the recipient's provider");
    await en.context().close();
    const ja = await verifyInBrowser('ja-JP', files.bundle);
    await shot(ja, 'bundle-ja');
    expect(await ja.locator('.timeline').textContent()).toContain(
      '送信者側の事業者が書留配達のためにメッセージを受け付けました',
    );
    await ja.context().close();
  });

  it('a REM mail (.eml): valid, the event it carries in words and who sealed it, in both languages', async () => {
    const en = await verifyInBrowser('en-US', files.rem);
    await shot(en, 'rem-en');
    await expect(en.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('valid');
    const text = (await en.locator('main').textContent())!;
    expect(text).toContain('Registered e-mail (REM, ETSI EN 319 532)');
    expect(text).toContain("The sender's provider accepted the message for registered delivery");
    expect(text).toContain('Shared AP c2 e-seal');
    await en.context().close();
    const ja = await verifyInBrowser('ja-JP', files.rem);
    await shot(ja, 'rem-ja');
    await expect(ja.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('valid');
    expect(await ja.locator('main').textContent()).toContain('書留電子メール（REM、ETSI EN 319 532）');
    await ja.context().close();
  });

  it('the language switch changes the page language', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${ap.url}/verify`);
    await Promise.all([page.waitForURL(/lang=ja/), page.click('nav a[hreflang=ja]')]);
    await expect(page.locator('h1').textContent()).resolves.toBe('書留配達の証明を検証する');
    await context.close();
  });

  it('an oversize upload is refused with a clear message, and nothing of it is kept', async () => {
    const before = blobFiles();
    const page = await verifyInBrowser('en-US', files.large);
    await shot(page, 'too-large-en');
    await expect(page.locator('[data-message]').getAttribute('data-message')).resolves.toBe('tooLarge');
    expect(await page.locator('[data-message]').textContent()).toContain('The file is too large');
    await page.context().close();
    expect(blobFiles()).toBe(before);
  });
});

describe('the verification page over plain HTTP (no browser)', () => {
  it('stores nothing: no new blob and no new message after verifications', async () => {
    const blobsBefore = blobFiles();
    const messagesBefore = await accessPointInternals(ap).context.store.listInbox({
      recipient: RECIPIENT,
      states: ['received', 'consigned', 'delivered'],
      limit: 500,
    });
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(readFileSync(files.evidence))]), 'e.xml');
    const res = await fetch(`${ap.url}/verify?lang=en`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(blobFiles()).toBe(blobsBefore);
    const messagesAfter = await accessPointInternals(ap).context.store.listInbox({
      recipient: RECIPIENT,
      states: ['received', 'consigned', 'delivered'],
      limit: 500,
    });
    expect(messagesAfter.messages.length).toBe(messagesBefore.messages.length);
  });

  it('a truncated form is a 400 page and the AP serves the next request', async () => {
    const res = await fetch(`${ap.url}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xx' },
      body: '--xx\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('data-message="badUpload"');
    expect((await fetch(`${ap.url}/healthz`)).status).toBe(200);
  });
});
