import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { loadConfig, type QerdsConfigInput } from '../../src/config/index.js';
import { sequentialIdGenerator } from '../../src/core/index.js';
import { parseEvidenceXml } from '../../src/evidence/index.js';
import { devPkiLayout, loadSigningIdentity, type DevPkiLayout } from '../../src/pki/index.js';
import { sealXml } from '../../src/seal/index.js';
import { hashPassword } from '../../src/smtp/index.js';
import { httpsRequest, makeCertificate, submissionBody, type ClientCert } from '../helpers/identification.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * REQ3 / REQ4 on real HTTPS on loopback: one access point per policy, each path of identification
 * (API key, OAuth2 client credentials, mutual TLS, e-seal) leaving its method and levels in the evidence,
 * and refusals below the policy's level.
 */
const SENDER = { id: '0188:1234567890123', name: 'Sample Trading Co., Ltd.' };
const RECIPIENT = { id: '0188:9876543210987', name: 'Test Works LLC' };
const SENDER_KEY = 'sender-api-key-0123456789abcdef';
const RECIPIENT_KEY = 'recipient-api-key-0123456789abcd';
const CLIENT_SECRET = 'client-secret-0123456789abcdefghij';
const LOW = 'http://eidas.europa.eu/LoA/low';
const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
const HIGH = 'http://eidas.europa.eu/LoA/high';

const work = mkdtempSync(join(tmpdir(), 'qerds-identification-'));
let pki: DevPkiLayout;
let certs: Record<
  'senderClient' | 'recipientHw' | 'untrusted' | 'senderSeal' | 'expiredSeal' | 'otherSeal',
  ClientCert
>;
const offset = { ms: 0 };
const clock = { now: () => new Date(Date.now() + offset.ms) };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function startAp(name: string, policy: QerdsConfigInput['policy']): Promise<AccessPoint> {
  const ap = pki.ap('c2');
  const secretHash = await hashPassword(CLIENT_SECRET, { N: 1024 });
  const config = loadConfig({
    env: {},
    overrides: {
      ap: { id: devApId('c2') },
      http: {
        port: 0,
        tls: { cert: ap.tlsCert, key: ap.tlsKey, clientCa: pki.caCert, requestClientCert: true },
      },
      store: { sqliteFile: ':memory:', blobDir: join(work, name, 'blobs') },
      pki: { dir: pki.dir, apName: 'c2' },
      // The relay of accepted submissions is not under test: its peer never answers, and retries wait.
      relay: { maxAttempts: 1, baseDelayMs: 600_000 },
      directory: {
        participants: [{ id: RECIPIENT.id, name: RECIPIENT.name, endpoint: 'https://127.0.0.1:9/as4' }],
      },
      accounts: [
        {
          participant: SENDER.id,
          name: SENDER.name,
          ial: 2,
          credentials: [
            { kind: 'apiKey', keySha256: sha256(SENDER_KEY) },
            { kind: 'oauth2', clientId: 'sender-erp', secretHash },
            { kind: 'mtls', fingerprint256: certs.senderClient.fingerprint256 },
            { kind: 'eseal', fingerprint256: certs.senderSeal.fingerprint256, hardwareBound: true, ial: 3 },
            { kind: 'eseal', fingerprint256: certs.expiredSeal.fingerprint256, hardwareBound: true },
          ],
        },
        {
          participant: RECIPIENT.id,
          name: RECIPIENT.name,
          ial: 3,
          credentials: [
            { kind: 'apiKey', keySha256: sha256(RECIPIENT_KEY) },
            {
              kind: 'mtls',
              subject: 'C=JP, O=Test Works LLC, CN=recipient-system',
              issuer: 'C=JP, O=qerds-ap DEV ONLY, CN=qerds-ap DEV ONLY Root CA',
              hardwareBound: true,
            },
          ],
        },
      ],
      policy,
      log: { level: 'silent' },
    },
  });
  const accessPoint = await createAccessPoint(config, {
    clock,
    ids: sequentialIdGenerator(),
    logger: pino({ level: 'silent' }),
  });
  await accessPoint.start();
  return accessPoint;
}

describe('sender and recipient identification (REQ3 / REQ4) over HTTPS', () => {
  useOpenApiContract();
  let open: AccessPoint;
  let strict: AccessPoint;

  beforeAll(async () => {
    await devTestPki(join(work, 'pki'));
    pki = devPkiLayout(join(work, 'pki'));
    certs = {
      senderClient: makeCertificate(
        pki,
        work,
        'sender-client',
        '/C=JP/O=Sample Trading Co., Ltd./CN=sender-erp',
        { usage: 'client' },
      ),
      recipientHw: makeCertificate(pki, work, 'recipient-hw', '/C=JP/O=Test Works LLC/CN=recipient-system', {
        usage: 'client',
      }),
      untrusted: makeCertificate(pki, work, 'untrusted', '/C=JP/O=Test Works LLC/CN=recipient-system', {
        usage: 'client',
        selfSigned: true,
      }),
      senderSeal: makeCertificate(
        pki,
        work,
        'sender-seal',
        '/C=JP/O=Sample Trading Co., Ltd./CN=Sample Trading e-seal',
        { usage: 'seal' },
      ),
      expiredSeal: makeCertificate(
        pki,
        work,
        'expired-seal',
        '/C=JP/O=Sample Trading Co., Ltd./CN=Sample Trading old e-seal',
        { usage: 'seal', expired: true },
      ),
      otherSeal: makeCertificate(pki, work, 'other-seal', '/C=JP/O=Someone Else/CN=Someone Else e-seal', {
        usage: 'seal',
      }),
    };
    open = await startAp('open', {});
    strict = await startAp('strict', { minSubmissionAssurance: 'substantial', minHandoverAssurance: HIGH });
  }, 60_000);

  afterAll(async () => {
    await open?.stop();
    await strict?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const call = (
    ap: AccessPoint,
    path: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: Buffer | string;
      client?: ClientCert;
    } = {},
  ) => httpsRequest(ap.url + path, { ...init, ca: pki.caCert });

  async function submit(
    ap: AccessPoint,
    auth: { headers?: Record<string, string>; client?: ClientCert },
    payload = '<Invoice/>',
    extra: Record<string, unknown> = {},
  ) {
    const { body, contentType } = await submissionBody({ recipient: RECIPIENT.id, ...extra }, payload);
    return call(ap, '/api/v1/messages', {
      method: 'POST',
      body,
      headers: { ...auth.headers, 'content-type': contentType },
      client: auth.client,
    });
  }

  /** The evidence of a submission response (201 body or problem.message), as XML and parsed. */
  async function evidenceOf(ap: AccessPoint, response: { json: <T>() => T }) {
    const json = response.json<{ evidence?: { id: string }[]; message?: { evidence: { id: string }[] } }>();
    const id = (json.evidence ?? json.message!.evidence)[0]!.id;
    const record = await accessPointInternals(ap).context.store.getEvidence(id);
    return { xml: record!.xml, data: parseEvidenceXml(record!.xml) };
  }

  async function token(ap: AccessPoint, basic: string) {
    return call(ap, '/oauth/token', {
      method: 'POST',
      body: 'grant_type=client_credentials',
      headers: {
        authorization: `Basic ${Buffer.from(basic).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
    });
  }

  it('serves HTTPS from TLS 1.2 on: a TLS 1.1 client gets a protocol_version alert from the server', async () => {
    expect(open.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(open.url).port);
    const handshake = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve, reject) => {
        // SECLEVEL=0 lets this client offer TLS 1.1 at all: the refusal must come from the server.
        const socket = connect(
          {
            host: '127.0.0.1',
            port,
            ca: readFileSync(pki.caCert),
            minVersion: 'TLSv1',
            maxVersion,
            ciphers: 'DEFAULT@SECLEVEL=0',
          },
          () => {
            resolve(socket.getProtocol() ?? '');
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    await expect(handshake('TLSv1.1')).rejects.toThrow(
      /alert protocol version|TLSV1_ALERT_PROTOCOL_VERSION/i,
    );
    expect(await handshake('TLSv1.2')).toBe('TLSv1.2');
  });

  it('API key: SubmissionAcceptance records the method, AAL1 and the enrolled IAL2 (overall low)', async () => {
    const response = await submit(open, { headers: { authorization: `Bearer ${SENDER_KEY}` } });
    expect(response.status).toBe(201);
    const { xml, data } = await evidenceOf(open, response);
    expect(data.event).toBe('SubmissionAcceptance');
    expect(xml).toContain('<AuthenticationMethod>urn:qerds-ap:authentication:api-key</AuthenticationMethod>');
    expect(xml).toContain(
      `<AuthenticationDetsAndAssuranceLevel><ev:AuthenticationDetails><AuthenticationTime>`,
    );
    expect(xml).toMatch(
      new RegExp(
        `</ev:AuthenticationDetails><AssuranceLevel>${LOW}</AssuranceLevel></AuthenticationDetsAndAssuranceLevel><IdentityProofAssuranceLevel><AssuranceLevel>${SUBSTANTIAL}</AssuranceLevel>`,
      ),
    );
    expect(data.sender.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:api-key',
      ial: 2,
      aal: 1,
      assuranceLevel: LOW,
    });
  });

  it('OAuth2 client credentials: a token from Basic or body client auth submits, recorded as oauth2 at AAL1', async () => {
    const issued = await token(open, `sender-erp:${CLIENT_SECRET}`);
    expect(issued.status).toBe(200);
    expect(issued.headers['cache-control']).toBe('no-store');
    const { access_token, token_type, expires_in } = issued.json<{
      access_token: string;
      token_type: string;
      expires_in: number;
    }>();
    expect([token_type, expires_in]).toEqual(['Bearer', 300]);
    const response = await submit(open, { headers: { authorization: `Bearer ${access_token}` } });
    expect(response.status).toBe(201);
    const { data } = await evidenceOf(open, response);
    expect(data.sender.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:oauth2-client-credentials',
      ial: 2,
      aal: 1,
      assuranceLevel: LOW,
    });

    const inBody = await call(open, '/oauth/token', {
      method: 'POST',
      body: `grant_type=client_credentials&client_id=sender-erp&client_secret=${encodeURIComponent(CLIENT_SECRET)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(inBody.status).toBe(200);
  });

  it('OAuth2: a bad client secret is invalid_client (401); an expired or forged token is 401', async () => {
    const bad = await token(open, 'sender-erp:wrong-secret');
    expect(bad.status).toBe(401);
    expect(bad.json()).toMatchObject({ error: 'invalid_client' });
    expect(bad.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await token(open, `nobody:${CLIENT_SECRET}`)).status).toBe(401);
    const wrongGrant = await call(open, '/oauth/token', {
      method: 'POST',
      body: 'grant_type=password',
      headers: {
        authorization: `Basic ${Buffer.from(`sender-erp:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
    });
    expect(wrongGrant.json()).toMatchObject({ error: 'unsupported_grant_type' });

    const { access_token } = (await token(open, `sender-erp:${CLIENT_SECRET}`)).json<{
      access_token: string;
    }>();
    const forged = access_token.slice(0, -2) + (access_token.endsWith('AA') ? 'BB' : 'AA');
    const refusedForged = await call(open, '/api/v1/inbox', {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(refusedForged.status).toBe(401);
    expect(refusedForged.json()).toMatchObject({ detail: 'the access token signature is not valid' });
    offset.ms = 301_000;
    try {
      const expired = await call(open, '/api/v1/inbox', {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(expired.status).toBe(401);
      expect(expired.json()).toMatchObject({ code: 'AUTH_REQUIRED', detail: 'the access token has expired' });
    } finally {
      offset.ms = 0;
    }
  });

  it('mTLS: a pinned software-key client certificate submits alone, recorded at AAL2 (overall substantial)', async () => {
    const response = await submit(open, { client: certs.senderClient });
    expect(response.status).toBe(201);
    const { xml, data } = await evidenceOf(open, response);
    expect(xml).toContain(
      '<AuthenticationMethod>urn:qerds-ap:authentication:mtls-client-certificate</AuthenticationMethod>',
    );
    expect(data.sender.identification).toMatchObject({ ial: 2, aal: 2, assuranceLevel: SUBSTANTIAL });
  });

  it('mTLS: an untrusted client certificate is 401, even beside a valid API key', async () => {
    const alone = await call(open, '/api/v1/inbox', { client: certs.untrusted });
    expect(alone.status).toBe(401);
    expect(alone.json<{ detail: string }>().detail).toMatch(/client certificate is not trusted/);
    const withKey = await call(open, '/api/v1/inbox', {
      client: certs.untrusted,
      headers: { authorization: `Bearer ${RECIPIENT_KEY}` },
    });
    expect(withKey.status).toBe(401);
    // A trusted certificate enrolled for nobody, and one whose participant differs from the API key's.
    expect((await call(open, '/api/v1/inbox', { client: certs.otherSeal })).status).toBe(401);
    const mixed = await call(open, '/api/v1/inbox', {
      client: certs.senderClient,
      headers: { authorization: `Bearer ${RECIPIENT_KEY}` },
    });
    expect(mixed.status).toBe(401);
  });

  it('e-seal: XML sealed with the sender’s enrolled hardware-bound certificate is recorded at IAL3 + AAL3 (high)', async () => {
    const sealed = await seal(certs.senderSeal);
    const response = await submit(open, { headers: { authorization: `Bearer ${SENDER_KEY}` } }, sealed, {
      eSeal: true,
    });
    expect(response.status).toBe(201);
    const { xml, data } = await evidenceOf(open, response);
    expect(xml).toContain('<AuthenticationMethod>urn:qerds-ap:authentication:e-seal</AuthenticationMethod>');
    expect(data.sender.identification).toMatchObject({ ial: 3, aal: 3, assuranceLevel: HIGH });
  });

  it('e-seal: a tampered seal is RA02, an expired certificate RA04, another participant’s seal RA05, each in a sealed SubmissionRejection', async () => {
    const auth = { headers: { authorization: `Bearer ${SENDER_KEY}` } };
    const tampered = (await seal(certs.senderSeal)).replace('<Amount>100</Amount>', '<Amount>900</Amount>');
    const cases = [
      { payload: tampered, code: 'RA02', reason: 'InvalidMessageFormat', check: 'SEAL_DIGEST_MISMATCH' },
      {
        payload: await seal(certs.expiredSeal),
        code: 'RA04',
        reason: 'SenderSigningCertExpiredOrRevoked',
        check: 'PKI_CERT_EXPIRED',
      },
      {
        payload: await seal(certs.otherSeal),
        code: 'RA05',
        reason: 'S_ERDS_PolicyViolation',
        check: 'is not enrolled for 0188:1234567890123',
      },
    ];
    for (const c of cases) {
      const response = await submit(open, auth, c.payload, { eSeal: true });
      expect(response.status, c.code).toBe(422);
      expect(response.json()).toMatchObject({ code: 'SUBMISSION_REJECTED', reason: c.code });
      const { xml, data } = await evidenceOf(open, response);
      expect(data.event).toBe('SubmissionRejection');
      expect(data.reason?.code).toBe(c.code);
      expect(xml).toContain(`http://uri.etsi.org/19522/EventReason/${c.reason}`);
      expect(data.reason?.details).toContain(c.check);
      expect(xml).toContain('<ds:SignatureValue'); // the rejection is sealed like every evidence
    }
  });

  it('policy: a submission below substantial is 403 with a sealed SubmissionRejection (RA05) naming required and presented levels', async () => {
    const response = await submit(strict, { headers: { authorization: `Bearer ${SENDER_KEY}` } });
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<{
      code: string;
      reason: string;
      detail: string;
      message: { state: string };
    }>();
    expect(problem).toMatchObject({
      code: 'ASSURANCE_TOO_LOW',
      reason: 'RA05',
      message: { state: 'rejected' },
    });
    const { data } = await evidenceOf(strict, response);
    expect(data.event).toBe('SubmissionRejection');
    expect(data.reason).toMatchObject({ code: 'RA05' });
    expect(data.reason?.details).toBe(
      `assurance level ${SUBSTANTIAL} required, ${LOW} (IAL2, AAL1) presented by urn:qerds-ap:authentication:api-key`,
    );
    expect(data.sender.identification).toMatchObject({
      method: 'urn:qerds-ap:authentication:api-key',
      aal: 1,
    });
    // The same sender over mTLS (AAL2) meets the policy.
    expect((await submit(strict, { client: certs.senderClient })).status).toBe(201);
  });

  it('handover (REQ4): below high it is 403 and nothing is handed over; over hardware-bound mTLS the ContentHandover records AAL3', async () => {
    const id = await injectReceivedMessage(strict, '<Invoice>for you</Invoice>');
    const refused = await call(strict, `/api/v1/inbox/${id}/parts/part-1`, {
      headers: { authorization: `Bearer ${RECIPIENT_KEY}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'ASSURANCE_TOO_LOW', required: HIGH });
    expect((await accessPointInternals(strict).context.store.getMessage(id))?.state).toBe('consigned');
    expect(await accessPointInternals(strict).context.store.listEvidence(id)).toEqual([]);

    const handed = await call(strict, `/api/v1/inbox/${id}/parts/part-1`, { client: certs.recipientHw });
    expect(handed.status).toBe(200);
    expect(handed.text).toBe('<Invoice>for you</Invoice>');
    // Sealed once the whole body was written: it may land just after the client read the body.
    const [evidence] = await waitFor(
      async () => {
        const chain = await accessPointInternals(strict).context.store.listEvidence(id);
        return chain.length > 0 ? chain : undefined;
      },
      { timeoutMs: 50_000, what: 'ContentHandover' },
    ); // sealing takes tens of seconds on a loaded 2-core machine
    const data = parseEvidenceXml(evidence!.xml);
    expect(data.event).toBe('ContentHandover');
    expect(evidence!.xml).toContain(
      '<AuthenticationMethod>urn:qerds-ap:authentication:mtls-client-certificate</AuthenticationMethod>',
    );
    expect(data.recipient.identification).toMatchObject({ ial: 3, aal: 3, assuranceLevel: HIGH });
  });

  it('handover: a client that closes the connection right after the last byte, before the store reached end of file, gets the ContentHandover recorded once', async () => {
    const content = '<Invoice>read to the last byte</Invoice>';
    const id = await injectReceivedMessage(strict, content);
    const blobs = accessPointInternals(strict).context.store.blobs;
    const get = blobs.get.bind(blobs);
    // The order a loaded machine produced by chance, made certain: the stored file's end of file has not
    // reached the route when the AP sees the client leave (a file stream needs one more read to see its end).
    blobs.get = (sha256) => {
      const held = new PassThrough();
      get(sha256).pipe(held, { end: false });
      return held;
    };
    try {
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: '127.0.0.1',
          port: Number(new URL(strict.url).port),
          ca: readFileSync(pki.caCert),
          cert: readFileSync(certs.recipientHw.cert),
          key: readFileSync(certs.recipientHw.key),
        });
        socket.on('error', reject);
        socket.write(`GET /api/v1/inbox/${id}/parts/part-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        let data = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          const head = data.indexOf('\r\n\r\n');
          if (head >= 0 && data.length - head - 4 >= Buffer.byteLength(content)) {
            socket.destroy(); // the last byte is in: leave at once, as a client without keep-alive does
            resolve(data.toString());
          }
        });
      });
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received.endsWith(content)).toBe(true);
      const chain = await waitFor(
        async () => {
          const evidence = await accessPointInternals(strict).context.store.listEvidence(id);
          return evidence.length > 0 ? evidence : undefined;
        },
        { timeoutMs: 50_000, what: 'ContentHandover' },
      ); // sealing takes tens of seconds on a loaded 2-core machine
      expect(chain.map((e) => parseEvidenceXml(e.xml).event)).toEqual(['ContentHandover']);
      expect((await accessPointInternals(strict).context.store.getMessage(id))?.state).toBe('delivered');
    } finally {
      blobs.get = get;
    }
  });

  async function seal(cert: ClientCert): Promise<string> {
    const identity = loadSigningIdentity(cert.cert, cert.key);
    return sealXml('<Invoice><Amount>100</Amount></Invoice>', {
      identity,
      clock,
      idGenerator: sequentialIdGenerator(),
    });
  }

  /** A message as C3 holds it once relayed and consigned (the relay itself is not under test here). */
  async function injectReceivedMessage(ap: AccessPoint, content: string): Promise<string> {
    const { sha256: digest, size } = await accessPointInternals(ap).context.store.blobs.put(
      Buffer.from(content),
    );
    const id = `msg-in-${Date.now()}`;
    await accessPointInternals(ap).context.store.transaction(async (tx) => {
      await tx.insertMessage({
        id,
        ebmsMessageId: `${id}@peer`,
        role: 'recipient-ap',
        state: 'consigned',
        sender: { scheme: '0188', value: '1234567890123' },
        recipient: { scheme: '0188', value: '9876543210987' },
        parts: [{ partId: 'part-1', contentType: 'application/xml', sha256: digest, size }],
        submittedAt: clock.now(),
        peer: 'https://127.0.0.1:9/as4',
      });
    });
    return id;
  }
});
