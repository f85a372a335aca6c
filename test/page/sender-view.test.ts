import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessPoint } from '../../src/access-point.js';
import { submissionBody } from '../helpers/identification.js';
import { waitFor } from '../helpers/wait.js';
import { launchChromium, PAGE_RECIPIENT, startPageAp } from './page-ap.js';

/**
 * The sender's view in a real browser: sign in with the API key, the list of sent messages with their
 * state, a filter, a message's evidence timeline, one-click verification and download; another sender
 * sees none of it.
 */
const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts');
const work = mkdtempSync(join(tmpdir(), 'qerds-sender-view-'));
const SENDER_KEY = 'view-sender-key-0123456789abcdef';
const OTHER_KEY = 'view-other-key-0123456789abcdefg';
const RECIPIENT = PAGE_RECIPIENT;

let ap: AccessPoint;
let browser: Browser;
const sent: Record<string, string> = {};

beforeAll(async () => {
  ap = await startPageAp({
    name: 'Sender View AP',
    work,
    apiKeys: [
      { key: SENDER_KEY, participant: '0188:1234567890123', name: 'Sample Trading Co., Ltd.' },
      { key: OTHER_KEY, participant: '0188:5555555555555', name: 'Other Corp.' },
    ],
  });
  for (const subject of ['Invoice 1001', 'Invoice 1002']) {
    const { body, contentType } = await submissionBody(
      { recipient: RECIPIENT, subject, reference: `ERP-${subject.slice(-4)}` },
      `<Invoice>${subject}</Invoice>`,
    );
    const res = await fetch(`${ap.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${SENDER_KEY}` },
      body: new Uint8Array(body),
    });
    expect(res.status).toBe(201);
    sent[subject] = ((await res.json()) as { id: string }).id;
  }
  for (const id of Object.values(sent)) {
    await waitFor(
      async () =>
        (
          (await (
            await fetch(`${ap.url}/api/v1/messages/${id}`, {
              headers: { authorization: `Bearer ${SENDER_KEY}` },
            })
          ).json()) as { state: string }
        ).state === 'failed' || undefined,
      {
        timeoutMs: 120_000,
        what: `message ${id} failed`,
      },
    );
  }
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await ap?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function signedIn(key: string, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({ locale, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${ap.url}/sender`);
  expect(new URL(page.url()).pathname).toBe('/sender/login');
  await page.fill('#apiKey', key);
  await Promise.all([page.waitForURL(/\/sender\?lang=/), page.click('button[type=submit]')]);
  await page.close();
  return context;
}

describe("the sender's view in a browser", () => {
  it('a wrong API key is refused on the sign-in page', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${ap.url}/sender/login`);
    await page.fill('#apiKey', 'not-a-key-000000000000000000');
    await page.click('button[type=submit]');
    await expect(page.locator('[data-message]').getAttribute('data-message')).resolves.toBe('loginFailed');
    await context.close();
  });

  it('lists the messages sent, with state and recipient; the filter narrows it', async () => {
    const context = await signedIn(SENDER_KEY);
    const page = await context.newPage();
    await page.goto(`${ap.url}/sender?lang=en`);
    await page.screenshot({ path: join(artifacts, 'sender-list-en.png'), fullPage: true });
    await expect(page.locator('tr[data-message]').count()).resolves.toBe(2);
    const text = (await page.locator('table.list').textContent())!;
    expect(text).toContain('Invoice 1001');
    expect(text).toContain(RECIPIENT);
    expect(text).toContain('failed');
    await page.selectOption('select[name=state]', 'delivered');
    await Promise.all([page.waitForURL(/state=delivered/), page.click('form.filters button[type=submit]')]);
    await expect(page.locator('[data-empty]').count()).resolves.toBe(1);
    await page.selectOption('select[name=state]', 'failed');
    await Promise.all([page.waitForURL(/state=failed/), page.click('form.filters button[type=submit]')]);
    await expect(page.locator('tr[data-message]').count()).resolves.toBe(2);
    await page.fill('input[name=reference]', 'ERP-1002');
    await Promise.all([
      page.waitForURL(/reference=ERP-1002/),
      page.click('form.filters button[type=submit]'),
    ]);
    await expect(page.locator('tr[data-message]').count()).resolves.toBe(1);
    expect(await page.locator('table.list').textContent()).toContain('Invoice 1002');
    await context.close();
  });

  it("a message's timeline: each evidence in words, verifiable in one click and downloadable (Japanese)", async () => {
    const context = await signedIn(SENDER_KEY, 'ja-JP');
    const page = await context.newPage();
    await page.goto(`${ap.url}/sender/messages/${sent['Invoice 1001']}`);
    await page.screenshot({ path: join(artifacts, 'sender-message-ja.png'), fullPage: true });
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('failed');
    await expect(page.locator('li[data-evidence]').count()).resolves.toBe(2);
    expect(await page.locator('.timeline').textContent()).toContain(
      '送信者側の事業者が書留配達のためにメッセージを受け付けました',
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('li[data-evidence] a[download]').first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^1-SubmissionAcceptance\.xml$/);
    await Promise.all([
      page.waitForURL(/\/verify\?lang=ja/),
      page.locator('li[data-evidence] a', { hasText: '検証' }).first().click(),
    ]);
    await page.screenshot({ path: join(artifacts, 'sender-verify-ja.png'), fullPage: true });
    await expect(page.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe('valid');
    await context.close();
  });

  it("another sender sees none of these messages, and a message id of theirs is 'no such message'", async () => {
    const context = await signedIn(OTHER_KEY);
    const page = await context.newPage();
    await page.goto(`${ap.url}/sender?lang=en`);
    await expect(page.locator('tr[data-message]').count()).resolves.toBe(0);
    const res = await page.goto(`${ap.url}/sender/messages/${sent['Invoice 1002']}`);
    expect(res?.status()).toBe(404);
    const theirs = await page.locator('main').textContent();
    const unknown = await page.goto(`${ap.url}/sender/messages/no-such-id`);
    expect(unknown?.status()).toBe(404);
    // Alike: the answer does not tell whether the id exists for someone else.
    expect(await page.locator('main').textContent()).toBe(theirs);
    await context.close();
  });

  it('a forged session cookie is not a session', async () => {
    const res = await fetch(`${ap.url}/sender`, {
      headers: {
        cookie: 'qerds_sender=eyJwIjoiMDE4ODoxMjM0NTY3ODkwMTIzIiwibiI6IngiLCJlIjo5OTk5OTk5OTk5fQ.AAAA',
      },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/sender\/login/);
  });
});
