import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { xmlsecSign } from '../helpers/xmlsec.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/directory');

export const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

export interface MetadataValues {
  readonly participantScheme: string;
  readonly participantValue: string;
  readonly docScheme: string;
  readonly docValue: string;
  readonly endpoint: string;
  readonly activation: string;
  readonly expiration: string;
  /** PEM of the AP certificate (armour stripped into base64 DER). */
  readonly apCertPem: string;
  readonly encCertPem?: string;
  /** The process of the endpoint (peppol template). @defaultValue BIS Billing 3's `urn:fdc:peppol.eu:2017:poacc:billing:01:1.0` */
  readonly processValue?: string;
  /** Canonicalization of SignedInfo and, for exclusive C14N, an explicit reference transform. @defaultValue inclusive */
  readonly c14n?: typeof C14N | typeof EXC_C14N;
  /** Sign with RSA-SHA1 and a SHA-1 digest, as Peppol SMPs before SMP 1.3.0 do. @defaultValue RSA-SHA256, SHA-256 */
  readonly sha1?: boolean;
}

/**
 * The values of an answer that passes every check: `participant` under iso6523-actorid-upis for `doc`, served by the AP
 * whose certificate is `apCertPem` at https://c3.example/as4, valid from 2020 to 2099; `more` adds or replaces fields.
 */
export function answerValues(
  participant: string,
  doc: { readonly scheme: string; readonly value: string },
  apCertPem: string,
  more: Partial<MetadataValues> = {},
): MetadataValues {
  return {
    participantScheme: 'iso6523-actorid-upis',
    participantValue: participant,
    docScheme: doc.scheme,
    docValue: doc.value,
    endpoint: 'https://c3.example/as4',
    activation: '2020-01-01T00:00:00Z',
    expiration: '2099-12-31T23:59:59Z',
    apCertPem,
    ...more,
  };
}

const base64Of = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Fill one of the SMP templates under test/fixtures/directory/ with an unsigned ds:Signature template. */
export function metadataTemplate(file: 'smp1' | 'peppol' | 'smp2', v: MetadataValues): string {
  const c14n = v.c14n ?? C14N;
  const signature = readFileSync(join(fixtures, 'signature-template.xml'), 'utf8')
    .trim()
    .replace('{{C14N}}', c14n)
    .replace('{{REF_C14N}}', c14n === EXC_C14N ? `<ds:Transform Algorithm="${EXC_C14N}"/>` : '')
    .replace(
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      v.sha1 ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : '$&',
    )
    .replace(
      'http://www.w3.org/2001/04/xmlenc#sha256',
      v.sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : '$&',
    );
  return readFileSync(join(fixtures, `${file}-service-metadata.xml`), 'utf8')
    .replace('{{PARTICIPANT_SCHEME}}', escape(v.participantScheme))
    .replace('{{PARTICIPANT_VALUE}}', escape(v.participantValue))
    .replace('{{DOC_SCHEME}}', escape(v.docScheme))
    .replace('{{DOC_VALUE}}', escape(v.docValue))
    .replace('{{ENDPOINT}}', escape(v.endpoint))
    .replace('{{ACTIVATION}}', v.activation)
    .replace('{{EXPIRATION}}', v.expiration)
    .replace('{{AP_CERT}}', base64Of(v.apCertPem))
    .replace('{{ENC_CERT}}', base64Of(v.encCertPem ?? ''))
    .replace('{{SIGNATURE}}', signature)
    .replace(
      '>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0<',
      `>${escape(v.processValue ?? 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0')}<`,
    );
}

/** Signed by xmlsec1 (libxmlsec1, OpenSSL): a signer independent of the code under test. */
export function signedMetadata(
  file: 'smp1' | 'peppol' | 'smp2',
  v: MetadataValues,
  signer: { keyFile: string; certFile: string },
): string {
  return xmlsecSign(metadataTemplate(file, v), signer.keyFile, signer.certFile);
}

/**
 * A Peppol SMP 1.x ServiceGroup (BusDox namespaces; unsigned, as SMP 1.x service groups are) listing one
 * ServiceMetadataReference per document type, each href `<smp>/<participant>/services/<doc type>` percent-encoded.
 */
export function peppolServiceGroup(
  smpUrl: string,
  participant: { scheme: string; value: string },
  documentTypes: readonly { scheme: string; value: string }[],
): string {
  const segment = (id: { scheme: string; value: string }) => encodeURIComponent(`${id.scheme}::${id.value}`);
  const references = documentTypes
    .map(
      (d) =>
        `<smp:ServiceMetadataReference href="${escape(`${smpUrl}/${segment(participant)}/services/${segment(d)}`).replace(/"/g, '&quot;')}"/>`,
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<smp:ServiceGroup xmlns:smp="http://busdox.org/serviceMetadata/publishing/1.0/" xmlns:id="http://busdox.org/transport/identifiers/1.0/">' +
    `<id:ParticipantIdentifier scheme="${escape(participant.scheme)}">${escape(participant.value)}</id:ParticipantIdentifier>` +
    `<smp:ServiceMetadataReferenceCollection>${references}</smp:ServiceMetadataReferenceCollection></smp:ServiceGroup>`
  );
}

/** A local SMP: serves bodies by exact (still percent-encoded) request path and records every request path. */
export interface SmpResponder {
  readonly url: string;
  readonly requests: string[];
  publish(path: string, body: string, status?: number): void;
  /** Serve `first` to the next `times` requests of `path`, then `after` (an answer that changes between two lookups). */
  publishThen(path: string, first: string, times: number, after: string, afterStatus?: number): void;
  close(): Promise<void>;
}

export async function startSmpResponder(): Promise<SmpResponder> {
  const documents = new Map<string, { body: string; status: number }>();
  const firsts = new Map<string, { body: string; left: number }>();
  const requests: string[] = [];
  const app = express();
  app.use((req, res) => {
    requests.push(req.originalUrl);
    const first = firsts.get(req.originalUrl);
    if (first && first.left-- > 0) return void res.status(200).type('application/xml').send(first.body);
    const doc = documents.get(req.originalUrl);
    if (!doc) return void res.status(404).type('text/plain').send('not found');
    res.status(doc.status).type('application/xml').send(doc.body);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    publish: (path, body, status = 200) => {
      firsts.delete(path);
      documents.set(path, { body, status });
    },
    publishThen: (path, first, times, after, afterStatus = 200) => {
      documents.set(path, { body: after, status: afterStatus });
      firsts.set(path, { body: first, left: times });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface NaptrAnswer {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
}

/** What the local DNS server knows of one name: NAPTR records (BDXL / Peppol SML 2.0) or a CNAME (the older Peppol SML form). */
export type DnsEntry = readonly NaptrAnswer[] | { readonly cname: string };

const NAPTR = 35;
const CNAME = 5;

/**
 * A minimal authoritative DNS server over UDP (RFC 1035 §4; NAPTR RDATA RFC 3403 §4.1) answering from a table:
 * NAPTR records for a NAPTR query, a CNAME record for a name that has one (whatever the query type, as RFC 1034
 * §3.6.2 has a server do), NODATA for a known name without records of the type, NXDOMAIN for every other name.
 * Enough for node:dns's resolver (c-ares) to talk to. Records every question as `<name> <type>`.
 */
export async function startDnsServer(
  table: ReadonlyMap<string, DnsEntry>,
): Promise<{ address: string; queries: string[]; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const labels: string[] = [];
    let offset = 12;
    while (msg[offset]! > 0) {
      labels.push(msg.subarray(offset + 1, offset + 1 + msg[offset]!).toString('ascii'));
      offset += msg[offset]! + 1;
    }
    const questionEnd = offset + 5;
    const name = labels.join('.').toLowerCase();
    const qtype = msg.readUInt16BE(offset + 1);
    queries.push(`${name} ${qtype === NAPTR ? 'NAPTR' : qtype === CNAME ? 'CNAME' : qtype}`);
    const entry = table.get(name);
    const records: Buffer[] = [];
    if (entry && 'cname' in entry) {
      records.push(record(CNAME, domainName(entry.cname)));
    } else if (entry && qtype === NAPTR) {
      for (const a of entry) {
        const str = (t: string) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t)]);
        records.push(
          record(
            NAPTR,
            Buffer.concat([
              u16(a.order),
              u16(a.preference),
              str(a.flags),
              str(a.service),
              str(a.regexp),
              Buffer.from([0]),
            ]),
          ),
        );
      }
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (entry ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    socket.send(
      Buffer.concat([header, msg.subarray(12, questionEnd), ...records]),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** NAPTR only (the table of earlier tests); queries recorded by name alone. */
export async function startNaptrServer(
  table: ReadonlyMap<string, readonly NaptrAnswer[]>,
): Promise<{ address: string; queries: string[]; close(): Promise<void> }> {
  const server = await startDnsServer(table);
  return {
    address: server.address,
    get queries() {
      return server.queries.map((q) => q.split(' ')[0]!);
    },
    close: server.close,
  };
}

/** One answer record for the question's name (a pointer to offset 12), class IN, TTL 60. */
function record(type: number, rdata: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0xc0, 0x0c]),
    u16(type),
    u16(1),
    Buffer.from([0, 0, 0, 60]),
    u16(rdata.length),
    rdata,
  ]);
}

function domainName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
