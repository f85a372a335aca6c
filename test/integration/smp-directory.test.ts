import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { api, RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { loadConfig, type QerdsConfigInput } from '../../src/config/index.js';
import { smpPathSegment } from '../../src/directory/index.js';
import { devPkiLayout, type DevPkiLayout } from '../../src/pki/index.js';
import { waitFor } from '../helpers/wait.js';
import { xmlsecSign } from '../helpers/xmlsec.js';
import {
  answerValues,
  metadataTemplate,
  startSmpResponder,
  type MetadataValues,
  type SmpResponder,
} from '../directory/smp-fixtures.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';
import { claimPort } from '../helpers/ports.js';

/**
 * `directory.kind: smp` in the AP config: C2 finds C3 through a local OASIS SMP 2.0 responder serving
 * metadata signed by xmlsec1 (endpoint, C3's e-seal and AS4 encryption certificates, the recipient's E2E
 * certificate), relays over AS4 and C4 finds the message in its inbox. A tampered SMP answer refuses the
 * submission: 422 problem+json, SubmissionRejection RA05 naming DIRECTORY_SMP_SIGNATURE_INVALID.
 */

const work = mkdtempSync(join(tmpdir(), 'qerds-smp-ap-'));
const pkiDir = join(work, 'pki');
const DOC = { scheme: 'qerds-docid', value: 'urn:qerds-ap:erds:dispatch' };
const TAMPERED = '0188:5555555555555';
let pki: DevPkiLayout;
let smp: SmpResponder;
let c2: AccessPoint;
let c3: AccessPoint;

const smpPath = (participant: string) =>
  `/bdxr-smp-2/${smpPathSegment({ scheme: 'iso6523-actorid-upis', value: participant })}/services/${smpPathSegment(DOC)}`;

/** SMP 2.0 metadata with a third certificate typed `as4-encryption` (C3's AS4 encryption key), signed by xmlsec1. */
function signedWithAs4Encryption(values: MetadataValues): string {
  const as4Enc = readFileSync(pki.ap('c3').encCert, 'utf8')
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
  const template = metadataTemplate('smp2', values).replace(
    '</sma:Endpoint>',
    `<sma:Certificate><smb:TypeCode>as4-encryption</smb:TypeCode><smb:ContentBinaryObject mimeCode="application/base64">${as4Enc}</smb:ContentBinaryObject></sma:Certificate></sma:Endpoint>`,
  );
  // The SMP signs with a certificate of the dev CA (C2's trust store).
  return xmlsecSign(template, pki.ap('c2').sealKey, pki.ap('c2').sealCert);
}

beforeAll(async () => {
  await devTestPki(pkiDir);
  pki = devPkiLayout(pkiDir);
  smp = await startSmpResponder();
  // Claimed, not port 0: C3's own directory entry names its endpoint before it listens. C2 is found by C3's
  // static directory only, so it listens on port 0 and starts first.
  const c3Port = await claimPort();
  const values = (participant: string): MetadataValues =>
    answerValues(participant, DOC, readFileSync(pki.ap('c3').sealCert, 'utf8'), {
      endpoint: `http://127.0.0.1:${c3Port}/as4`,
      encCertPem: readFileSync(pki.recipient('alice').cert, 'utf8'),
    });
  smp.publish(smpPath(RECIPIENT.id), signedWithAs4Encryption(values(RECIPIENT.id)));
  // Signed for TAMPERED, then the endpoint changed on the way: the signature no longer covers it.
  smp.publish(
    smpPath(TAMPERED),
    signedWithAs4Encryption(values(TAMPERED)).replace(
      `http://127.0.0.1:${c3Port}/as4`,
      'http://127.0.0.1:9/as4',
    ),
  );

  const make = (
    name: 'c2' | 'c3',
    port: number,
    account: typeof SENDER,
    directory: QerdsConfigInput['directory'],
  ) =>
    createAccessPoint(
      loadConfig({
        env: {},
        baseDir: work,
        overrides: {
          ap: { name: `smp ${name}`, id: devApId(name) },
          http: { port },
          store: { sqliteFile: join(work, name, 'qerds.sqlite'), blobDir: join(work, name, 'blobs') },
          pki: { dir: pkiDir, apName: name },
          queue: { pollIntervalMs: 50 },
          relay: { baseDelayMs: 200, maxDelayMs: 2000 },
          log: { level: 'silent' },
          directory,
          apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
        },
      }),
    );
  const staticEntry = (id: string, name: string, ap: 'c2' | 'c3', port: number) => ({
    id,
    name,
    endpoint: `http://127.0.0.1:${port}/as4`,
    apCertificate: pki.ap(ap).sealCert,
    apEncryptionCertificate: pki.ap(ap).encCert,
  });
  // C2 knows nobody statically: the recipient is found through the SMP only.
  c2 = await make('c2', 0, SENDER, {
    kind: 'smp',
    smp: { url: smp.url, binding: 'smp2', documentType: `${DOC.scheme}::${DOC.value}` },
    cacheTtlSeconds: 60,
  });
  await c2.start();
  const c2Port = Number(new URL(c2.url).port);
  c3 = await make('c3', c3Port, RECIPIENT, {
    participants: [
      staticEntry(SENDER.id, SENDER.name, 'c2', c2Port),
      staticEntry(RECIPIENT.id, RECIPIENT.name, 'c3', c3Port),
    ],
  });
  await c3.start();
}, 90_000);
afterAll(async () => {
  await Promise.allSettled([c2?.stop(), c3?.stop()]);
  await smp?.close();
});

async function submit(recipient: string, subject: string) {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient, subject }));
  form.append(
    'payload',
    new Blob(['<Invoice>via SMP</Invoice>'], { type: 'application/xml' }),
    'invoice.xml',
  );
  const response = await fetch(`${c2.url}/api/v1/messages`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${SENDER.key}` },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    body: (await response.json()) as Record<string, any>,
  };
}

describe('directory.kind smp', () => {
  it('relays to the C3 that the signed SMP answer names, encrypting for the E2E certificate it publishes', async () => {
    const answer = await submit(RECIPIENT.id, 'found through SMP');
    expect(answer.status).toBe(201);
    expect(answer.body.parts[0].contentType).toBe('application/pkcs7-mime; smime-type=authEnveloped-data');
    expect(smp.requests).toContain(smpPath(RECIPIENT.id));
    const item = await waitFor(
      async () =>
        (await api<Array<{ subject?: string; state: string }>>(c3.url, RECIPIENT.key, '/api/v1/inbox')).find(
          (m) => m.subject === 'found through SMP',
        ),
      { timeoutMs: 40_000, what: 'the message at C3' },
    );
    expect(item.state).toMatch(/received|consigned/);
    const relayed = await waitFor(
      async () => {
        const m = await accessPointInternals(c2).context.store.getMessage(answer.body.id);
        return m && ['relayed', 'delivered'].includes(m.state) ? m : undefined;
      },
      { what: 'C2 to record the receipt' },
    );
    expect(relayed.peer).toMatch(/^http:\/\/127.0.0.1:\d+\/as4$/);
    // The pre-send check answers from the SMP too.
    const check = await api<{ verdict: string; source: string }>(
      c2.url,
      SENDER.key,
      `/api/v1/recipients/${RECIPIENT.id}`,
    );
    expect(check).toMatchObject({ verdict: 'reachable', source: expect.stringContaining(smp.url) });
  });

  it('caches the SMP answer (cacheTtlSeconds): a second submission asks the SMP no more', async () => {
    const before = smp.requests.filter((r) => r === smpPath(RECIPIENT.id)).length;
    expect((await submit(RECIPIENT.id, 'second through SMP')).status).toBe(201);
    expect(smp.requests.filter((r) => r === smpPath(RECIPIENT.id)).length).toBe(before);
  });

  it('refuses the submission when the SMP answer was tampered with: 422, SubmissionRejection RA05 with the reason', async () => {
    const answer = await submit(TAMPERED, 'tampered SMP');
    expect(answer.status).toBe(422);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: 'RA05' });
    expect(answer.body.detail).toMatch(/DIRECTORY_SMP_SIGNATURE_INVALID/);
    const chain = await accessPointInternals(c2).context.store.listEvidence(answer.body.message.id);
    expect(chain.map((e) => e.event)).toEqual(['SubmissionRejection']);
    expect(chain[0]!.xml).toMatch(/DIRECTORY_SMP_SIGNATURE_INVALID/);
    expect((await accessPointInternals(c2).context.store.getMessage(answer.body.message.id))?.state).toBe(
      'rejected',
    );
  });
});
