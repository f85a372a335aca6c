import { readFileSync, mkdtempSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError, type Clock, type ParticipantId } from '../../src/core/index.js';
import {
  bdxlHostName,
  bdxlLocator,
  cachedDirectory,
  createSmpDirectory,
  relaysBySmtp,
  smpPathSegment,
  SMTP_RELAY_TRANSPORT_PROFILE,
  type Directory,
  type SmpDirectoryOptions,
} from '../../src/directory/index.js';
import { devPkiLayout, loadTrustStore, type DevPkiLayout, type TrustStore } from '../../src/pki/index.js';
import { devTestPki, foreignTestPki } from '../helpers/pki.js';
import { xmlsecSign } from '../helpers/xmlsec.js';
import {
  answerValues,
  EXC_C14N,
  metadataTemplate,
  signedMetadata,
  startNaptrServer,
  startSmpResponder,
  type MetadataValues,
  type SmpResponder,
} from './smp-fixtures.js';

const RECIPIENT: ParticipantId = { scheme: '0188', value: '9876543210987' };
const DOC = {
  scheme: 'busdox-docid-qns',
  value: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017::2.1',
};
/** The request path, percent-encoded by hand (SMP 1.0 §3.1: `scheme::value` as one segment; `:` → %3A, `#` → %23). */
const PATH =
  '/iso6523-actorid-upis%3A%3A0188%3A9876543210987/services/busdox-docid-qns%3A%3Aurn%3Aoasis%3Anames%3Aspecification%3Aubl%3Aschema%3Axsd%3AInvoice-2%3A%3AInvoice%23%23urn%3Acen.eu%3Aen16931%3A2017%3A%3A2.1';

let pki: DevPkiLayout;
let trust: TrustStore;
let smp: SmpResponder;
let smpSigner: { keyFile: string; certFile: string };
let values: MetadataValues;

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isQerdsError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

const directory = (extra: Partial<SmpDirectoryOptions> = {}): Directory =>
  createSmpDirectory({ baseUrl: smp.url, trust, documentTypeId: DOC, ...extra });

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-smp-pki-'));
  await devTestPki(dir);
  pki = devPkiLayout(dir);
  trust = loadTrustStore([pki.caCert]);
  // The SMP signs with a seal of the dev PKI; the endpoint certificate is C3's seal.
  smpSigner = { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert };
  values = answerValues('0188:9876543210987', DOC, readFileSync(pki.ap('c3').sealCert, 'utf8'), {
    encCertPem: readFileSync(pki.recipient('bob').cert, 'utf8'),
  });
  smp = await startSmpResponder();
});

afterAll(async () => {
  await smp?.close();
});

describe('SMP directory against a local SMP serving metadata signed by xmlsec1', () => {
  it('percent-encodes each identifier as one path segment, keeping its case', () => {
    expect(smpPathSegment({ scheme: 'iso6523-actorid-upis', value: '0188:ABC' })).toBe(
      'iso6523-actorid-upis%3A%3A0188%3AABC',
    );
    expect(smpPathSegment(DOC)).toBe(PATH.split('/services/')[1]);
  });

  it('SMP 1.0 (inclusive C14N): returns the endpoint, transport profile, AP certificate and validity', async () => {
    smp.publish(PATH, signedMetadata('smp1', values, smpSigner));
    const entry = await directory().lookup(RECIPIENT);
    expect(smp.requests.at(-1)).toBe(PATH);
    expect(entry).toMatchObject({
      participant: RECIPIENT,
      endpoint: 'https://c3.example/as4',
      transportProfile: 'bdxr-transport-ebms3-as4-v1p0',
      minimumAuthenticationLevel: 'http://eidas.europa.eu/LoA/substantial',
      source: `${smp.url}${PATH}`,
    });
    expect(entry!.expiresAt?.toISOString()).toBe('2099-12-31T23:59:59.000Z');
    expect(entry!.apCertificatePem?.replace(/\s+/g, '')).toBe(
      readFileSync(pki.ap('c3').sealCert, 'utf8').replace(/\s+/g, ''),
    );
    expect(entry!.encryptionCertificatePem).toBeUndefined();
  });

  it('Peppol SMP (busdox namespaces, exclusive C14N) is read too', async () => {
    smp.publish(
      PATH,
      signedMetadata(
        'peppol',
        { ...values, endpoint: 'https://peppol-c3.example/as4', c14n: EXC_C14N },
        smpSigner,
      ),
    );
    const entry = await directory().lookup(RECIPIENT);
    expect(entry).toMatchObject({
      endpoint: 'https://peppol-c3.example/as4',
      transportProfile: 'peppol-transport-as4-v2_0',
    });
  });

  it('SMP 2.0 (under /bdxr-smp-2/): typed certificates give the AP and the encryption certificate', async () => {
    smp.publish(
      `/bdxr-smp-2${PATH}`,
      signedMetadata('smp2', { ...values, endpoint: 'https://smp2-c3.example/as4' }, smpSigner),
    );
    const entry = await directory({ binding: 'smp2' }).lookup(RECIPIENT);
    expect(entry).toMatchObject({
      endpoint: 'https://smp2-c3.example/as4',
      transportProfile: 'bdxr-transport-ebms3-as4-v1p0',
    });
    expect(entry!.apCertificatePem?.replace(/\s+/g, '')).toBe(
      readFileSync(pki.ap('c3').sealCert, 'utf8').replace(/\s+/g, ''),
    );
    expect(entry!.encryptionCertificatePem?.replace(/\s+/g, '')).toBe(
      readFileSync(pki.recipient('bob').cert, 'utf8').replace(/\s+/g, ''),
    );
  });

  it('an endpoint with transport profile etsi-rem-smtp is taken (the SMTP relay binding), but only when no AS4 endpoint is published', async () => {
    const smtpEndpoint = (xml: string) =>
      xml.replace(
        /<Endpoint transportProfile="[^"]+">([\s\S]*?)<\/Endpoint>/,
        (_all, inner: string) =>
          `<Endpoint transportProfile="${SMTP_RELAY_TRANSPORT_PROFILE}">${inner.replace('https://c3.example/as4', 'smtp://mx.c3.example:25?domain=c3.example')}</Endpoint>`,
      );
    const template = metadataTemplate('smp1', values);
    smp.publish(PATH, xmlsecSign(smtpEndpoint(template), smpSigner.keyFile, smpSigner.certFile));
    const smtpOnly = await directory().lookup(RECIPIENT);
    expect(smtpOnly).toMatchObject({
      endpoint: 'smtp://mx.c3.example:25?domain=c3.example',
      transportProfile: 'etsi-rem-smtp',
    });
    expect(relaysBySmtp(smtpOnly!)).toBe(true);
    // Both published, the SMTP one first: AS4 is still preferred.
    const both = template.replace(
      /(<ServiceEndpointList>)([\s\S]*?)(<\/ServiceEndpointList>)/,
      (_all, open: string, list: string, close: string) => `${open}${smtpEndpoint(list)}${list}${close}`,
    );
    smp.publish(PATH, xmlsecSign(both, smpSigner.keyFile, smpSigner.certFile));
    const preferred = await directory().lookup(RECIPIENT);
    expect(preferred).toMatchObject({
      endpoint: 'https://c3.example/as4',
      transportProfile: 'bdxr-transport-ebms3-as4-v1p0',
    });
    expect(relaysBySmtp(preferred!)).toBe(false);
  });

  it('rejects a response whose endpoint URL was changed after signing (DIRECTORY_SMP_SIGNATURE_INVALID)', async () => {
    const signed = signedMetadata('smp1', values, smpSigner);
    const tampered = signed.replace('https://c3.example/as4', 'https://attacker.example/as4');
    expect(tampered).not.toBe(signed);
    smp.publish(PATH, tampered);
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
  });

  it('rejects an unsigned response and one with a second (wrapping) signature', async () => {
    const signed = signedMetadata('smp1', values, smpSigner);
    smp.publish(PATH, signed.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''));
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    smp.publish(PATH, signed.replace('</ServiceMetadata>', `</ServiceMetadata>${signature}`));
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
  });

  it('rejects a response signed by an SMP outside the trust store (DIRECTORY_SMP_SIGNATURE_UNTRUSTED)', async () => {
    const foreign = foreignTestPki();
    smp.publish(
      PATH,
      signedMetadata('smp1', values, {
        keyFile: foreign.ap('c2').sealKey,
        certFile: foreign.ap('c2').sealCert,
      }),
    );
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_SIGNATURE_UNTRUSTED');
  });

  it("rejects validly signed metadata of another participant served under the recipient's id", async () => {
    smp.publish(
      PATH,
      signedMetadata('smp1', { ...values, participantValue: '0188:1111111111111' }, smpSigner),
    );
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_MISMATCH');
  });

  it('refuses an expired endpoint and one not active yet', async () => {
    smp.publish(PATH, signedMetadata('smp1', { ...values, expiration: '2021-01-01T00:00:00Z' }, smpSigner));
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_ENDPOINT_EXPIRED');
    smp.publish(PATH, signedMetadata('smp1', { ...values, activation: '2098-01-01T00:00:00Z' }, smpSigner));
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_ENDPOINT_NOT_ACTIVE');
  });

  it('answers undefined for a participant the SMP does not know (404); an endpoint of no accepted transport profile is DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED', async () => {
    expect(await directory().lookup({ scheme: '0188', value: '0000000000000' })).toBeUndefined();
    smp.publish(PATH, signedMetadata('smp1', values, smpSigner));
    // The participant is registered for the document type, only not reachable over a profile we speak.
    expect(
      await rejection(directory({ transportProfiles: ['peppol-transport-as4-v2_0'] }).lookup(RECIPIENT)),
    ).toBe('DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');
  });

  it('an SMP error status is DIRECTORY_SMP_UNAVAILABLE', async () => {
    smp.publish(PATH, 'oops', 500);
    expect(await rejection(directory().lookup(RECIPIENT))).toBe('DIRECTORY_SMP_UNAVAILABLE');
  });
});

describe('cachedDirectory', () => {
  it('serves repeated lookups from the cache until the TTL passes; negative answers for a shorter time', async () => {
    smp.publish(PATH, signedMetadata('smp1', values, smpSigner));
    let now = Date.now();
    const clock: Clock = { now: () => new Date(now) };
    const cached = cachedDirectory(directory({ clock }), { ttlMs: 60_000, negativeTtlMs: 5_000, clock });
    const count = (path: string) => smp.requests.filter((r) => r === path).length;
    const before = count(PATH);

    const [a, b] = await Promise.all([cached.lookup(RECIPIENT), cached.lookup(RECIPIENT)]);
    expect(a?.endpoint).toBe('https://c3.example/as4');
    expect(b).toBe(a);
    await cached.lookup({ scheme: '0188', value: '9876543210987' });
    expect(count(PATH) - before).toBe(1);
    now += 61_000;
    await cached.lookup(RECIPIENT);
    expect(count(PATH) - before).toBe(2);

    const unknown = { scheme: '0188', value: '0000000000000' };
    const unknownPath = `/iso6523-actorid-upis%3A%3A0188%3A0000000000000/services/${smpPathSegment(DOC)}`;
    const unknownBefore = count(unknownPath);
    expect(await cached.lookup(unknown)).toBeUndefined();
    expect(await cached.lookup(unknown)).toBeUndefined();
    expect(count(unknownPath) - unknownBefore).toBe(1);
    now += 6_000;
    await cached.lookup(unknown);
    expect(count(unknownPath) - unknownBefore).toBe(2);
  });

  it('does not cache refusals', async () => {
    const signed = signedMetadata('smp1', values, smpSigner);
    smp.publish(PATH, signed.replace('https://c3.example/as4', 'https://attacker.example/as4'));
    const cached = cachedDirectory(directory(), { ttlMs: 60_000 });
    expect(await rejection(cached.lookup(RECIPIENT))).toBe('DIRECTORY_SMP_SIGNATURE_INVALID');
    smp.publish(PATH, signed);
    expect((await cached.lookup(RECIPIENT))?.endpoint).toBe('https://c3.example/as4');
  });
});

describe('BDXL discovery', () => {
  const vectors = JSON.parse(
    readFileSync(join(import.meta.dirname, '../fixtures/directory/bdxl-vectors.json'), 'utf8'),
  ) as {
    peppol: { scheme: string; value: string; label: string }[];
    bdxl: { scheme?: string; value: string; label: string }[];
    peppolCname: { scheme: string; value: string; label: string }[];
  };

  it('builds the Peppol SML host name (base32 of SHA-256 of the lower-cased value, then scheme and zone)', () => {
    for (const v of vectors.peppol) {
      expect(
        bdxlHostName({ scheme: v.scheme, value: v.value }, 'acc.edelivery.tech.ec.europa.eu.', 'peppol'),
      ).toBe(`${v.label}.${v.scheme}.acc.edelivery.tech.ec.europa.eu`);
    }
  });

  it('builds the older Peppol SML CNAME name (B- and the hex MD5 of the lower-cased value, then scheme and zone)', () => {
    for (const v of vectors.peppolCname) {
      expect(
        bdxlHostName(
          { scheme: v.scheme, value: v.value },
          'participant.sml.prod.tech.peppol.org.',
          'peppol-cname',
        ),
      ).toBe(`${v.label}.${v.scheme}.participant.sml.prod.tech.peppol.org`);
    }
  });

  it('builds the BDXL host name (one label over the lower-cased scheme::value)', () => {
    for (const v of vectors.bdxl) {
      expect(bdxlHostName({ scheme: v.scheme, value: v.value }, 'bdxl.example', 'bdxl')).toBe(
        `${v.label}.bdxl.example`,
      );
    }
  });

  it('resolves U-NAPTR records from a local DNS server and looks the participant up at the SMP they name', async () => {
    smp.publish(PATH, signedMetadata('smp1', values, smpSigner));
    const zone = 'sml.qerds.test';
    const host = bdxlHostName({ scheme: 'iso6523-actorid-upis', value: '0188:9876543210987' }, zone);
    const server = await startNaptrServer(
      new Map([
        [
          host,
          [
            { order: 100, preference: 10, flags: 'U', service: 'Meta:SMP', regexp: `!^.*$!${smp.url}!` },
            {
              order: 100,
              preference: 20,
              flags: 'U',
              service: 'Meta:SMP',
              regexp: '!^.*$!http://wrong.invalid!',
            },
            {
              order: 50,
              preference: 10,
              flags: 'U',
              service: 'Meta:Other',
              regexp: '!^.*$!http://other.invalid!',
            },
          ],
        ],
      ]),
    );
    try {
      const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
      resolver.setServers([server.address]);
      const locator = bdxlLocator({ zone, resolver });
      expect((await locator({ scheme: 'iso6523-actorid-upis', value: '0188:9876543210987' }))?.href).toBe(
        `${smp.url}/`,
      );
      const entry = await createSmpDirectory({ locator, trust, documentTypeId: DOC }).lookup(RECIPIENT);
      expect(entry?.endpoint).toBe('https://c3.example/as4');
      expect(server.queries).toContain(host);
      // An unregistered participant: NXDOMAIN → not found, without asking any SMP.
      expect(
        await createSmpDirectory({ locator, trust, documentTypeId: DOC }).lookup({
          scheme: '0188',
          value: '5555555555555',
        }),
      ).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
