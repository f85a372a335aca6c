import { devApId } from '../../src/pki/dev-ap-id.js';
import { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createConfiguredDirectory } from '../../src/access-point/directory-binding.js';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { loadConfig } from '../../src/config/index.js';
import { isQerdsError, systemClock, type ParticipantId } from '../../src/core/index.js';
import {
  bdxlHostName,
  bdxlLocator,
  createSmpDirectory,
  type Directory,
  type RecipientCheck,
  type SmpIdentifier,
} from '../../src/directory/index.js';
import {
  parseParticipantId,
  peppolDocumentTypeMatcher,
  peppolSmpSignatureRules,
} from '../../src/peppol/index.js';
import { loadTrustStore, type DevPkiLayout, type TrustStore } from '../../src/pki/index.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmlsecSign } from '../helpers/xmlsec.js';
import {
  answerValues,
  metadataTemplate,
  peppolServiceGroup,
  signedMetadata,
  startDnsServer,
  startSmpResponder,
  type DnsEntry,
  type MetadataValues,
  type SmpResponder,
} from './smp-fixtures.js';

/**
 * Peppol discovery end to end on loopback: a DNS server answering the SML's NAPTR (and the older CNAME) records for
 * `iso6523-actorid-upis::0188:<corporate number>` participants, an SMP serving their service groups and signed
 * metadata, and the directory the AP builds from its configuration (access-point/directory-binding.ts) — the same one
 * `qerds lookup` uses — resolving a JP PINT document type by the participant's `peppol-doctype-wildcard` registration.
 */

const ZONE = 'sml.qerds.test';
/** Corporate numbers (法人番号) with correct check digits (test/fixtures/peppol/README.md). */
const CORP = '5011001099999';
const OTHER_CORP = '9010401012345';
const participantOf = (corp: string): SmpIdentifier & { scheme: string } => ({
  scheme: 'iso6523-actorid-upis',
  value: `0188:${corp}`,
});
const RECIPIENT: ParticipantId = { scheme: '0188', value: CORP };

const INVOICE = 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice';
const doctype = (customization: string, scheme = 'peppol-doctype-wildcard') => ({
  scheme,
  value: `${INVOICE}##${customization}::2.1`,
});
/** What a JP PINT invoice is sent as. */
const JP_PINT = doctype('urn:peppol:pint:billing-1@jp-1');
/** A receiver's registrations: every PINT billing specialisation, only the Japanese one, a Singapore one, BIS Billing 3. */
const PINT_ANY = doctype('urn:peppol:pint:billing-1*');
const PINT_JP_ANY = doctype('urn:peppol:pint:billing-1@jp-1*');
const PINT_SG_ANY = doctype('urn:peppol:pint:billing-1@sg-1*');
const BIS3 = doctype(
  'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0',
  'busdox-docid-qns',
);

const groupPath = (corp: string) => `/${encodeURIComponent(`iso6523-actorid-upis::0188:${corp}`)}`;
const metadataPath = (corp: string, d: { scheme: string; value: string }) =>
  `${groupPath(corp)}/services/${encodeURIComponent(`${d.scheme}::${d.value}`)}`;

let pki: DevPkiLayout;
let trust: TrustStore;
let smp: SmpResponder;
let dnsServer: Awaited<ReturnType<typeof startDnsServer>>;
let dir: string;
let configFile: string;
let signer: { keyFile: string; certFile: string };
let values: MetadataValues;

/** Publish the participant's service group and, signed, the metadata of each registration (endpoint named after it). */
function register(corp: string, registrations: readonly { scheme: string; value: string }[]): void {
  smp.publish(groupPath(corp), peppolServiceGroup(smp.url, participantOf(corp), registrations));
  for (const r of registrations) {
    smp.publish(
      metadataPath(corp, r),
      signedMetadata(
        'peppol',
        {
          ...values,
          participantValue: `0188:${corp}`,
          docScheme: r.scheme,
          docValue: r.value,
          endpoint: endpointFor(r),
        },
        signer,
      ),
    );
  }
}
const endpointFor = (r: { value: string }) =>
  `https://ap.example/as4/${encodeURIComponent(r.value.split('##')[1]!)}`;

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isQerdsError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a rejection');
}

/** `qerds <args>` in this process: the one real launch of `qerds lookup` is in recipient-check.test.ts. */
const qerds = (args: string[]) => qerdsInProcess(args);

/** The directory the AP composes from this configuration file. */
function configuredDirectory(file = configFile): Directory {
  const config = loadConfig({ file });
  return createConfiguredDirectory(config.directory, trust, systemClock, config.as4.profile);
}

beforeAll(async () => {
  pki = sharedTestPki();
  trust = loadTrustStore([pki.caCert, pki.caCrl]);
  signer = { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert };
  values = answerValues(`0188:${CORP}`, JP_PINT, readFileSync(pki.ap('c3').sealCert, 'utf8'), {
    endpoint: 'https://ap.example/as4',
  });
  smp = await startSmpResponder();
  const naptr = (url: string): DnsEntry => [
    { order: 100, preference: 10, flags: 'U', service: 'Meta:SMP', regexp: `!^.*$!${url}!` },
  ];
  dnsServer = await startDnsServer(
    new Map<string, DnsEntry>([
      [bdxlHostName(participantOf(CORP), ZONE), naptr(smp.url)],
      [bdxlHostName(participantOf(OTHER_CORP), ZONE), naptr(smp.url)],
      // The older form: participant name → the SMP's name in the SML zone → the SMP's host.
      // DNS names compare case-insensitively; the server's table is lower case.
      [
        bdxlHostName(participantOf(CORP), ZONE, 'peppol-cname').toLowerCase(),
        { cname: `smp-1.publisher.${ZONE}` },
      ],
      [`smp-1.publisher.${ZONE}`, { cname: 'smp.qerds.test' }],
      ['smp.qerds.test', []],
    ]),
  );
  dir = mkdtempSync(join(tmpdir(), 'qerds-peppol-discovery-'));
  configFile = join(dir, 'qerds.yaml');
  // JSON is YAML.
  writeFileSync(
    configFile,
    JSON.stringify({
      pki: { dir: pki.dir },
      directory: {
        kind: 'smp',
        cacheTtlSeconds: 0,
        smp: {
          bdxl: { domain: ZONE, mode: 'peppol', dnsServers: [dnsServer.address] },
          documentType: `${JP_PINT.scheme}::${JP_PINT.value}`,
          trust: [pki.caCert],
        },
      },
    }),
  );
});

afterAll(async () => {
  await smp?.close();
  await dnsServer?.close();
});

describe('Peppol discovery: SML (BDXL NAPTR) + SMP, through the directory the AP configures', () => {
  it('the participant is a valid 0188 corporate number (check digit), the one with a wrong digit is not', () => {
    expect(parseParticipantId(`iso6523-actorid-upis::0188:${CORP}`).id).toBe(CORP);
    expect(() => parseParticipantId(`iso6523-actorid-upis::0188:${CORP.slice(0, 12)}8`)).toThrow(
      /check digit/,
    );
  });

  it('finds the SMP by NAPTR, reads the service group and takes the billing-1* registration for a JP PINT invoice', async () => {
    register(CORP, [BIS3, PINT_ANY]);
    const before = smp.requests.length;
    const entry = await configuredDirectory().lookup(RECIPIENT);
    expect(entry).toMatchObject({
      participant: RECIPIENT,
      endpoint: endpointFor(PINT_ANY),
      transportProfile: 'peppol-transport-as4-v2_0',
      source: `${smp.url}${metadataPath(CORP, PINT_ANY)}`,
    });
    expect(entry!.apCertificatePem?.replace(/\s+/g, '')).toBe(
      readFileSync(pki.ap('c3').sealCert, 'utf8').replace(/\s+/g, ''),
    );
    // The DNS question was the Peppol SML 2.0 name; the SMP was asked for the group, then for the chosen registration only.
    expect(dnsServer.queries).toContain(`${bdxlHostName(participantOf(CORP), ZONE)} NAPTR`);
    expect(smp.requests.slice(before)).toEqual([groupPath(CORP), metadataPath(CORP, PINT_ANY)]);
  });

  it('prefers the most specific wildcard registration, and refuses when no registration accepts the document type', async () => {
    register(CORP, [PINT_ANY, PINT_JP_ANY, BIS3]);
    expect((await configuredDirectory().lookup(RECIPIENT))?.endpoint).toBe(endpointFor(PINT_JP_ANY));

    // billing-1@sg-1* does not accept billing-1@jp-1, nor does BIS Billing 3: the participant is registered, but not
    // for this document type (a refusal naming what it registered, not "unknown"), and no metadata asked for.
    register(OTHER_CORP, [PINT_SG_ANY, BIS3]);
    const before = smp.requests.length;
    const refused = await rejection(configuredDirectory().lookup({ scheme: '0188', value: OTHER_CORP }));
    expect(refused.code).toBe('DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');
    expect(refused.message).toContain('billing-1@sg-1*');
    expect(smp.requests.slice(before)).toEqual([groupPath(OTHER_CORP)]);
  });

  it('a lookup naming a service asks for that document type instead of the configured one (JP PINT self-billing)', async () => {
    const selfBilling = doctype('urn:peppol:pint:selfbilling-1@jp-1');
    const selfBillingAny = doctype('urn:peppol:pint:selfbilling-1@jp-1*');
    register(CORP, [PINT_JP_ANY, selfBillingAny]);
    const entry = await configuredDirectory().lookup(RECIPIENT, { documentType: selfBilling });
    expect(entry?.endpoint).toBe(endpointFor(selfBillingAny));
    // The configured one (billing) without a service.
    expect((await configuredDirectory().lookup(RECIPIENT))?.endpoint).toBe(endpointFor(PINT_JP_ANY));
  });

  it('caches answers per participant and document type for cacheTtlSeconds, never past the endpoint certificate, and never a refusal', async () => {
    register(CORP, [PINT_JP_ANY, doctype('urn:peppol:pint:selfbilling-1@jp-1*')]);
    let now = new Date();
    const clock = { now: () => now };
    const directory = createSmpDirectory({
      baseUrl: smp.url,
      // The anchor alone (as `smp.trust` in the configuration above): the CRL would be stale on the moved clock.
      trust: loadTrustStore([pki.caCert]),
      documentTypeId: JP_PINT,
      documentTypeMatcher: peppolDocumentTypeMatcher,
      signatureRules: peppolSmpSignatureRules(),
      cacheTtlMs: 3_600_000,
      clock,
    });
    const selfBilling = { documentType: doctype('urn:peppol:pint:selfbilling-1@jp-1') };
    const before = smp.requests.length;
    await directory.lookup(RECIPIENT);
    await directory.lookup(RECIPIENT);
    await directory.lookup(RECIPIENT, selfBilling);
    await directory.lookup(RECIPIENT, selfBilling);
    // Two keys (billing, self-billing), each asked once: group + metadata.
    expect(smp.requests.length - before).toBe(4);
    // Past the TTL: asked again.
    now = new Date(now.getTime() + 3_600_001);
    await directory.lookup(RECIPIENT);
    expect(smp.requests.length - before).toBe(6);
    // The endpoint certificate (the shared PKI's C3 seal) expires before the TTL ends: kept only until its notAfter.
    const notAfter = new Date(new X509Certificate(values.apCertPem).validTo);
    now = new Date(notAfter.getTime() - 60_000);
    await directory.lookup(RECIPIENT);
    expect(smp.requests.length - before).toBe(8);
    now = new Date(notAfter.getTime() + 1);
    // A refusal (the certificate expired now; the signer's too, maybe) is not cached: each lookup asks again.
    await directory.lookup(RECIPIENT).catch(() => undefined);
    const afterExpiry = smp.requests.length;
    expect(afterExpiry - before).toBeGreaterThan(8);
    await directory.lookup(RECIPIENT).catch(() => undefined);
    expect(smp.requests.length).toBeGreaterThan(afterExpiry);
  });

  it('an exact wildcard-scheme registration of billing-1@jp-1 is taken before any billing-1…* one', async () => {
    register(CORP, [PINT_ANY, JP_PINT, PINT_JP_ANY]);
    expect((await configuredDirectory().lookup(RECIPIENT))?.endpoint).toBe(endpointFor(JP_PINT));
  });

  it('refuses validly signed metadata of another registration served under the chosen one (DIRECTORY_SMP_MISMATCH)', async () => {
    register(CORP, [PINT_ANY]);
    smp.publish(
      metadataPath(CORP, PINT_ANY),
      signedMetadata(
        'peppol',
        { ...values, docScheme: PINT_SG_ANY.scheme, docValue: PINT_SG_ANY.value },
        signer,
      ),
    );
    const refused = await rejection(configuredDirectory().lookup(RECIPIENT));
    expect(refused.code).toBe('DIRECTORY_SMP_MISMATCH');
    expect(refused.message).toContain('billing-1@sg-1*');
  });

  it('an unregistered participant (NXDOMAIN at the SML) is not found, and no SMP is asked', async () => {
    const before = smp.requests.length;
    expect(await configuredDirectory().lookup({ scheme: '0188', value: '1234567890123' })).toBeUndefined();
    expect(smp.requests.length).toBe(before);
  });

  it('the older SML form: B-<md5> CNAME chain followed with the configured DNS server to the SMP host', async () => {
    register(CORP, [PINT_ANY]);
    const hosts: string[] = [];
    const resolver = new dns.Resolver({ timeout: 5000, tries: 2 });
    resolver.setServers([dnsServer.address]);
    const locator = bdxlLocator({
      zone: ZONE,
      mode: 'peppol-cname',
      resolver,
      // Peppol SMPs answer on http port 80; the test SMP listens on a port of the system's choosing.
      smpUrlOfHost: (host) => {
        hosts.push(host);
        return new URL(smp.url);
      },
    });
    const directory = createSmpDirectory({
      locator,
      trust,
      documentTypeId: JP_PINT,
      documentTypeMatcher: peppolDocumentTypeMatcher,
      signatureRules: peppolSmpSignatureRules(),
    });
    expect((await directory.lookup(RECIPIENT))?.endpoint).toBe(endpointFor(PINT_ANY));
    expect(hosts).toEqual(['smp.qerds.test']);
    const first = bdxlHostName(participantOf(CORP), ZONE, 'peppol-cname');
    expect(first).toMatch(/^B-[0-9a-f]{32}\.iso6523-actorid-upis\.sml\.qerds\.test$/);
    expect(dnsServer.queries).toEqual(
      expect.arrayContaining([
        `${first.toLowerCase()} CNAME`,
        `smp-1.publisher.${ZONE} CNAME`,
        'smp.qerds.test CNAME',
      ]),
    );
    // No CNAME for this participant: not registered.
    expect(await directory.lookup({ scheme: '0188', value: OTHER_CORP })).toBeUndefined();
  });
});

describe('a running AP whose directory is the Peppol SML and SMP', () => {
  let ap: AccessPoint;
  const KEY = 'peppol-discovery-sender-key-0123456789';

  beforeAll(async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        ap: { id: devApId('c2'), name: 'peppol discovery C2' },
        http: { port: 0 },
        store: { sqliteFile: ':memory:', blobDir: join(dir, 'blobs') },
        pki: { dir: pki.dir, apName: 'c2' },
        log: { level: 'silent' },
        apiKeys: [{ key: KEY, participant: '0188:9010401012345', name: 'sender' }],
        directory: {
          kind: 'smp',
          cacheTtlSeconds: 0,
          smp: {
            bdxl: { domain: ZONE, dnsServers: [dnsServer.address] },
            documentType: `${JP_PINT.scheme}::${JP_PINT.value}`,
            trust: [pki.caCert],
          },
        },
      },
    });
    ap = await createAccessPoint(config, { logger: pino({ level: 'silent' }) });
    await ap.start();
  });

  afterAll(async () => {
    await ap?.stop();
  });

  it('GET /api/v1/recipients/0188:<corporate number> answers from the SML and SMP: the wildcard registration, trusted AP', async () => {
    register(CORP, [BIS3, PINT_JP_ANY]);
    const response = await fetch(`${ap.url}/api/v1/recipients/${encodeURIComponent(`0188:${CORP}`)}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(200);
    const check = (await response.json()) as RecipientCheck;
    expect(check).toMatchObject({
      participant: `0188:${CORP}`,
      verdict: 'reachable',
      endpoint: endpointFor(PINT_JP_ANY),
      source: `${smp.url}${metadataPath(CORP, PINT_JP_ANY)}`,
    });
    expect(check.apCertificate).toMatchObject({ trusted: true });
  });
});

describe('transport profiles a Peppol AP accepts from the SMP', () => {
  /** The configuration file of the discovery tests with this `as4.profile`. */
  function configWithProfile(profile: string): string {
    const file = join(dir, `qerds-${profile}.yaml`);
    const base = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...base, as4: { profile } }));
    return file;
  }

  it('a participant publishing only an etsi-rem-smtp endpoint is refused by a Peppol AP, naming the profile found; an ERDS AP takes it', async () => {
    register(CORP, [PINT_JP_ANY]);
    const smtpOnly = metadataTemplate('peppol', {
      ...values,
      docScheme: PINT_JP_ANY.scheme,
      docValue: PINT_JP_ANY.value,
      endpoint: 'smtp://mx.ap.example:25?domain=ap.example',
    }).replace('transportProfile="peppol-transport-as4-v2_0"', 'transportProfile="etsi-rem-smtp"');
    expect(smtpOnly).toContain('transportProfile="etsi-rem-smtp"');
    smp.publish(metadataPath(CORP, PINT_JP_ANY), xmlsecSign(smtpOnly, signer.keyFile, signer.certFile));

    const peppolFile = configWithProfile('peppol');
    const peppol = loadConfig({ file: peppolFile });
    const refused = await rejection(
      createConfiguredDirectory(peppol.directory, trust, systemClock, peppol.as4.profile).lookup(RECIPIENT),
    );
    expect(refused.code).toBe('DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');
    expect(refused.message).toContain('with a transport profile of peppol-transport-as4-v2_0');
    expect(refused.message).toContain('(published: etsi-rem-smtp)');

    // The same answer to an ERDS (eDelivery) AP: the REM SMTP relay binding, as before.
    const erds = loadConfig({ file: configWithProfile('edelivery-1.15') });
    const entry = await createConfiguredDirectory(
      erds.directory,
      trust,
      systemClock,
      erds.as4.profile,
    ).lookup(RECIPIENT);
    expect(entry).toMatchObject({
      endpoint: 'smtp://mx.ap.example:25?domain=ap.example',
      transportProfile: 'etsi-rem-smtp',
    });

    // `qerds lookup` of the Peppol AP, with the configured directory and with --smp, says the same.
    const r = await qerds(['lookup', CORP, '--config', peppolFile]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('refused:            DIRECTORY_DOCUMENT_TYPE_UNSUPPORTED');
    expect(r.stdout).not.toContain('smtp://');
  });
});

describe('qerds lookup over the configured SML and SMP', () => {
  it('exit 0: reachable, by the endpoint of the wildcard registration, its AP certificate trusted', async () => {
    register(CORP, [BIS3, PINT_ANY]);
    // The corporate number alone names the 0188 participant.
    const r = await qerds(['lookup', CORP, '--config', configFile, '--json']);
    expect(r.stderr).not.toContain('qerds:');
    expect(r.status).toBe(0);
    const check = JSON.parse(r.stdout) as RecipientCheck;
    expect(check).toMatchObject({
      participant: `0188:${CORP}`,
      verdict: 'reachable',
      endpoint: endpointFor(PINT_ANY),
      transportProfile: 'peppol-transport-as4-v2_0',
      source: `${smp.url}${metadataPath(CORP, PINT_ANY)}`,
    });
    expect(check.apCertificate).toMatchObject({ trusted: true });
  });

  it('exit 1 naming the refusal when the SMP answer was altered', async () => {
    register(CORP, [PINT_ANY]);
    const path = metadataPath(CORP, PINT_ANY);
    const signed = signedMetadata(
      'peppol',
      { ...values, docScheme: PINT_ANY.scheme, docValue: PINT_ANY.value, endpoint: endpointFor(PINT_ANY) },
      signer,
    );
    smp.publish(path, signed.replace(endpointFor(PINT_ANY), 'https://attacker.example/as4'));
    const r = await qerds(['lookup', `iso6523-actorid-upis::0188:${CORP}`, '--config', configFile]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('refused:            DIRECTORY_SMP_SIGNATURE_INVALID');
    expect(r.stdout).not.toContain('attacker.example');
  });

  it('a corporate number with a wrong check digit is refused before any DNS or SMP request', async () => {
    const queries = dnsServer.queries.length;
    const requests = smp.requests.length;
    const r = await qerds(['lookup', `${CORP.slice(0, 12)}8`, '--config', configFile]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('check digit');
    expect(dnsServer.queries.length).toBe(queries);
    expect(smp.requests.length).toBe(requests);
  });
});
