import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { loadConfig } from '../../src/config/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { devApId } from '../../src/pki/dev-ap-id.js';

export const PAGE_RECIPIENT = '0188:9876543210987';

/**
 * One access point (C2 role, SQLite in memory) for the page tests, whose only peer never answers: each
 * message ends failed after one relay attempt, with SubmissionAcceptance and RelayFailure as its evidence.
 */
export async function startPageAp(options: {
  name: string;
  work: string;
  apiKeys: readonly { key: string; participant: string; name: string }[];
}): Promise<AccessPoint> {
  const config = loadConfig({
    env: {},
    overrides: {
      ap: { id: devApId('c2'), name: options.name },
      http: { port: 0 },
      store: { sqliteFile: ':memory:', blobDir: join(options.work, 'blobs') },
      pki: { dir: sharedTestPki().dir, apName: 'c2' },
      relay: { maxAttempts: 1, baseDelayMs: 10 },
      directory: {
        participants: [{ id: PAGE_RECIPIENT, name: 'Test Works LLC', endpoint: 'http://127.0.0.1:9/as4' }],
      },
      apiKeys: [...options.apiKeys],
      log: { level: 'silent' },
    },
  });
  const ap = await createAccessPoint(config, { logger: pino({ level: 'silent' }) });
  await ap.start();
  return ap;
}

/** Debian's chromium, headless, with nothing reaching outside the machine (no background networking). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
