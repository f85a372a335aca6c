import { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { childElements, parseXmlStrict, textOf } from '../xml/index.js';
import { checkCertificateRole, createTrustStore, type TrustStore } from '../pki/index.js';
import { verifyXadesDocument, verifyXmlSeal } from '../seal/index.js';
import {
  FOR_ESEALS_URI,
  SERVICE_STATUS_URI,
  SERVICE_TYPE_URI,
  IN_FORCE_STATUSES,
  TSL_NS,
  type ServiceStatus,
  type TrustServiceType,
} from './names.js';
import type {
  LoadTrustListOptions,
  QualifiedStatus,
  ServiceStatusPeriod,
  TrustList,
  TrustListPointer,
  TrustListService,
} from './types.js';

const fail = (message: string): QerdsError => new QerdsError('TL_MALFORMED', `trusted list: ${message}`);
const child = (parent: Node, localName: string): Element | undefined =>
  childElements(parent, TSL_NS, localName)[0];
const need = (parent: Node, localName: string): Element => {
  const found = child(parent, localName);
  if (!found) throw fail(`missing ${localName}`);
  return found;
};
const nameOf = (parent: Element, localName: string): string =>
  textOf(need(need(parent, localName), 'Name')).trim();
const dateOf = (parent: Element, localName: string): Date => {
  const d = new Date(textOf(need(parent, localName)).trim());
  if (Number.isNaN(d.getTime())) throw fail(`${localName} is not a dateTime`);
  return d;
};
const STATUS_BY_URI = new Map<string, ServiceStatus>(
  Object.entries(SERVICE_STATUS_URI).map(([k, v]) => [v, k as ServiceStatus]),
);
const IN_FORCE = IN_FORCE_STATUSES;

/**
 * Load an ETSI TS 119 612 trusted list: verify its XAdES signature and the signer's certificate path against
 * `signerAnchors`, then read the services from what the signature covers.
 *
 * Threat: a forged or edited list that grants qualified status to a service. Hence the list is refused
 * (`TL_SIGNATURE_INVALID`) unless its one signature is valid and made by a certificate that chains to the
 * signer anchors, and the services are read from the signed canonical form, never from the input text (a
 * wrapped unsigned copy would otherwise be read). A list past its NextUpdate is refused (`TL_STALE`): a
 * withdrawal published since would be missed.
 */
export async function loadTrustList(xml: string, options: LoadTrustListOptions): Promise<TrustList> {
  const at = options.at ?? new Date();
  const anchors: TrustStore = Array.isArray(options.signerAnchors)
    ? createTrustStore(options.signerAnchors as readonly X509Certificate[])
    : (options.signerAnchors as TrustStore);
  const seal = await verifyListSignature(xml, anchors, at);
  // TS 119 612: the EU LOTL's signer is authenticated by the certificates the Official Journal publishes, and a
  // national list's signer by the certificates of the LOTL's pointer to it (its ServiceDigitalIdentity): the
  // certificate itself is designated, not its issuer. Such a pinned signer (an anchor equal to the signer
  // certificate) is accepted without the tslSigning EKU, as EU DSS does (its TL policy, tsl-constraint.xml,
  // has no extended-key-usage constraint; it only trusts the pointer's certificates). The real signers do lack
  // it: the LOTL of 2019 is signed with a Belgian eID signature certificate (emailProtection), Ireland's TL
  // of 2019 likewise. A signer that only chains to a CA anchor must still carry tslSigning: an e-seal or TLS
  // key of the same CA must not be able to publish a list.
  const pinned = anchors.anchors.some((a) => a.fingerprint256 === seal.signer.fingerprint256);
  const role = pinned ? [] : checkCertificateRole(seal.signer, 'trust-list-signer');
  if (role.length > 0) {
    throw new QerdsError(
      'TL_SIGNATURE_INVALID',
      `the list signer lacks the tslSigning extended key usage (and is not itself a pinned list signer certificate): ${role.map((f) => f.message).join('; ')}`,
      { details: { findings: role } },
    );
  }

  const doc = parseXmlStrict(seal.signedDocument, 'TL_MALFORMED');
  const root = doc.documentElement;
  if (root.namespaceURI !== TSL_NS || root.localName !== 'TrustServiceStatusList')
    throw fail('not a TrustServiceStatusList');
  const info = need(root, 'SchemeInformation');
  const nextUpdateEl = child(info, 'NextUpdate');
  const nextUpdate =
    nextUpdateEl && child(nextUpdateEl, 'dateTime') ? dateOf(nextUpdateEl, 'dateTime') : undefined;
  if (nextUpdate && at > nextUpdate && !options.allowStale) {
    throw new QerdsError('TL_STALE', `the trusted list was due for renewal on ${nextUpdate.toISOString()}`);
  }
  const services: TrustListService[] = [];
  const tspList = child(root, 'TrustServiceProviderList');
  for (const tsp of tspList ? childElements(tspList, TSL_NS, 'TrustServiceProvider') : []) {
    for (const svc of childElements(need(tsp, 'TSPServices'), TSL_NS, 'TSPService'))
      services.push(readService(svc));
  }
  const signer = seal.signer;
  const territoryEl = child(info, 'SchemeTerritory');
  const pointers = pointersOf(info);
  return Object.freeze({
    schemeOperator: nameOf(info, 'SchemeOperatorName'),
    ...(territoryEl ? { territory: textOf(territoryEl).trim() } : {}),
    signerPinned: pinned,
    pointers,
    issued: dateOf(info, 'ListIssueDateTime'),
    ...(nextUpdate ? { nextUpdate } : {}),
    signer,
    services: Object.freeze(services),
    trustStore(when = new Date(), opts: { readonly crls?: readonly (Buffer | string)[] } = {}) {
      const inForce = services.filter((s) => IN_FORCE.has(s.statusAt(when)!));
      return createTrustStore(
        inForce.flatMap((s) => s.certificates),
        { ...(opts.crls ? { crls: opts.crls } : {}) },
      );
    },
    statusOf(cert: X509Certificate, when = new Date()) {
      return statusOf(services, cert, when);
    },
  });
}

/**
 * The list's one signature, verified at `at` (the list signer's certificate too): our own profile first, then
 * XAdES as other list operators make it (the EU LOTL: SigningCertificate v1, C14N 1.0…), judged by EN 319 132.
 */
async function verifyListSignature(
  xml: string,
  anchors: TrustStore,
  at: Date,
): Promise<{ signer: X509Certificate; signedDocument: string }> {
  const own = await verifyXmlSeal(xml, { trust: anchors, at });
  if (own.valid && own.signedDocument !== undefined && own.signer)
    return { signer: own.signer, signedDocument: own.signedDocument };
  const foreign = await verifyXadesDocument(xml, { trust: anchors, at });
  const only = foreign.signatures.length === 1 ? foreign.signatures[0] : undefined;
  // Threat: a list with a second, unverified signature or a partial reference: only one signature over the whole list counts.
  if (foreign.indication === 'TOTAL-PASSED' && only?.signer && only.signedDocument !== undefined)
    return { signer: only.signer, signedDocument: only.signedDocument };
  const reasons = foreign.findings
    .filter((f) => f.severity === 'error')
    .map((f) => `${f.code}: ${f.message}`);
  throw new QerdsError(
    'TL_SIGNATURE_INVALID',
    `the trusted list's signature does not verify (${foreign.indication}${foreign.subIndication ? `/${foreign.subIndication}` : ''}): ${reasons.join('; ') || (foreign.signatures.length !== 1 ? `${foreign.signatures.length} signatures` : 'no signer')}`,
    { details: { findings: foreign.findings } },
  );
}

/** The MimeType of a pointer to a list in XML (TS 119 612 §5.3.4.2 / the EU LOTL: application/vnd.etsi.tsl+xml). */
export const TSL_XML_MIME_TYPE = 'application/vnd.etsi.tsl+xml';

/** PointersToOtherTSL (TS 119 612 §5.3.13), as signed: each pointer's location, territory, type and signer certificates. */
function pointersOf(info: Element): readonly TrustListPointer[] {
  const list = child(info, 'PointersToOtherTSL');
  const pointers: TrustListPointer[] = [];
  for (const p of list ? childElements(list, TSL_NS, 'OtherTSLPointer') : []) {
    const location = textOf(need(p, 'TSLLocation')).trim();
    const certificates: X509Certificate[] = [];
    const sdis = child(p, 'ServiceDigitalIdentities');
    for (const sdi of sdis ? childElements(sdis, TSL_NS, 'ServiceDigitalIdentity') : []) {
      for (const id of childElements(sdi, TSL_NS, 'DigitalId')) {
        for (const c of childElements(id, TSL_NS, 'X509Certificate')) {
          try {
            certificates.push(new X509Certificate(Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64')));
          } catch {
            throw fail(`a certificate of the pointer to ${location} cannot be read`);
          }
        }
      }
    }
    // The qualifiers are in AdditionalInformation, as OtherInformation elements (TSLType, SchemeTerritory,
    // MimeType — the last in the namespace of the additional types, matched here by local name).
    let territory: string | undefined;
    let mimeType: string | undefined;
    let tslType: string | undefined;
    for (const el of Array.from((child(p, 'AdditionalInformation') ?? p).getElementsByTagNameNS('*', '*'))) {
      const text = textOf(el).trim();
      if (el.localName === 'SchemeTerritory' && el.namespaceURI === TSL_NS) territory = text;
      else if (el.localName === 'TSLType' && el.namespaceURI === TSL_NS) tslType = text;
      else if (el.localName === 'MimeType') mimeType = text;
    }
    pointers.push(
      Object.freeze({
        location,
        certificates: Object.freeze(certificates),
        ...(territory ? { territory } : {}),
        ...(mimeType ? { mimeType } : {}),
        ...(tslType ? { tslType } : {}),
      }),
    );
  }
  return Object.freeze(pointers);
}

/**
 * Load a list a LOTL points to: its signer must be one of the certificates the LOTL's pointer for the list's
 * territory names (TS 119 612: the pointer's ServiceDigitalIdentities), which pins it (no tslSigning EKU
 * needed, see loadTrustList). `location` picks the pointer by TSLLocation when a territory has several XML
 * pointers; otherwise every XML pointer of the territory counts. A list whose signed SchemeTerritory is not
 * the pointer's is refused (`TL_SIGNATURE_INVALID`): one country's signer must not publish another's list.
 */
export async function loadPointedTrustList(
  xml: string,
  lotl: TrustList,
  options: Omit<LoadTrustListOptions, 'signerAnchors'> & { readonly location?: string } = {},
): Promise<TrustList> {
  // The territory read before the signature is verified only chooses which pointer's certificates to try; the
  // signed territory is checked against it afterwards.
  const claimed = /<(?:[\w-]+:)?SchemeTerritory>\s*([^<\s]+)\s*</.exec(xml)?.[1];
  const pointers = (lotl.pointers ?? []).filter(
    (p) =>
      (options.location !== undefined ? p.location === options.location : p.territory === claimed) &&
      (p.mimeType === undefined || p.mimeType === TSL_XML_MIME_TYPE),
  );
  const certificates = pointers.flatMap((p) => p.certificates);
  if (certificates.length === 0)
    throw new QerdsError(
      'TL_SIGNATURE_INVALID',
      `the list of trusted lists has no pointer with signer certificates for ${options.location ?? `territory ${claimed ?? '(none)'}`}`,
    );
  const list = await loadTrustList(xml, { ...options, signerAnchors: certificates });
  const territories = new Set(pointers.map((p) => p.territory));
  if (list.territory === undefined || !territories.has(list.territory))
    throw new QerdsError(
      'TL_SIGNATURE_INVALID',
      `the list's SchemeTerritory ${list.territory ?? '(none)'} is not the pointer's (${[...territories].join(', ')})`,
    );
  return list;
}

function readService(svc: Element): TrustListService {
  const info = need(svc, 'ServiceInformation');
  const typeUri = textOf(need(info, 'ServiceTypeIdentifier')).trim();
  const additional = childElements(
    child(info, 'ServiceInformationExtensions') ?? info,
    TSL_NS,
    'Extension',
  ).flatMap((e) =>
    childElements(e, TSL_NS, 'AdditionalServiceInformation').map((a) => textOf(need(a, 'URI')).trim()),
  );
  const type = serviceType(typeUri, additional);
  const certificates = certificatesOf(info);
  const statuses: ServiceStatusPeriod[] = [period(info)];
  const history = child(svc, 'ServiceHistory');
  for (const h of history ? childElements(history, TSL_NS, 'ServiceHistoryInstance') : []) {
    // A history entry of another type describes another service (a re-typed one): it says nothing about this one.
    if (textOf(need(h, 'ServiceTypeIdentifier')).trim() === typeUri) statuses.push(period(h));
  }
  statuses.sort((a, b) => b.statusStartingTime.getTime() - a.statusStartingTime.getTime());
  return Object.freeze({
    type,
    typeUri,
    name: nameOf(info, 'ServiceName'),
    certificates,
    statuses,
    statusAt: (at: Date) => statuses.find((p) => p.statusStartingTime.getTime() <= at.getTime())?.status,
  });
}

function period(el: Element): ServiceStatusPeriod {
  const uri = textOf(need(el, 'ServiceStatus')).trim();
  // Real lists keep, in their ServiceHistory, the statuses of the lists of Directive 1999/93 (TS 119 612
  // v1: undersupervision, accredited, supervisionceased…; the 2019 lists of IE, SE, MT, IS and DK do): such a
  // status, or any URI not among the eIDAS ones, is read as `other`, never in force — it cannot make a service
  // qualified, and it no longer makes the whole list unreadable.
  const status = STATUS_BY_URI.get(uri) ?? 'other';
  return { status, statusUri: uri, statusStartingTime: dateOf(el, 'StatusStartingTime') };
}

function certificatesOf(info: Element): X509Certificate[] {
  const certs: X509Certificate[] = [];
  for (const id of childElements(need(info, 'ServiceDigitalIdentity'), TSL_NS, 'DigitalId')) {
    for (const c of childElements(id, TSL_NS, 'X509Certificate')) {
      try {
        certs.push(new X509Certificate(Buffer.from(textOf(c).replace(/\s+/g, ''), 'base64')));
      } catch {
        throw fail('a ServiceDigitalIdentity certificate cannot be read');
      }
    }
  }
  return certs;
}

function serviceType(uri: string, additional: readonly string[]): TrustServiceType | 'other' {
  if (uri === SERVICE_TYPE_URI['CA/QC']) return additional.includes(FOR_ESEALS_URI) ? 'QESeal' : 'CA/QC';
  if (uri === SERVICE_TYPE_URI.QTST) return 'QTST';
  if (uri === SERVICE_TYPE_URI.QERDS) return 'QERDS';
  return 'other';
}

/**
 * The service that vouches for `cert` at `at`: a service whose digital identity is the certificate itself
 * (QTST, QERDS, or a CA), else a CA/QC service that issued it (signature checked, not only the names). A
 * service of type `other` never makes anything qualified.
 */
function statusOf(services: readonly TrustListService[], cert: X509Certificate, at: Date): QualifiedStatus {
  const candidates: { service: TrustListService; via: 'service' | 'issuer' }[] = [];
  for (const service of services) {
    if (service.certificates.some((c) => c.fingerprint256 === cert.fingerprint256))
      candidates.push({ service, via: 'service' });
  }
  for (const service of services) {
    if (service.type !== 'CA/QC' && service.type !== 'QESeal') continue;
    if (
      service.certificates.some(
        (ca) =>
          ca.fingerprint256 !== cert.fingerprint256 && cert.checkIssued(ca) && cert.verify(ca.publicKey),
      )
    ) {
      candidates.push({ service, via: 'issuer' });
    }
  }
  const describe = (c: (typeof candidates)[number]): QualifiedStatus => {
    const status = c.service.statusAt(at);
    return {
      qualified: c.service.type !== 'other' && status !== undefined && IN_FORCE.has(status),
      serviceType: c.service.type,
      serviceName: c.service.name,
      ...(status ? { status } : {}),
      via: c.via,
    };
  };
  const described = candidates.map(describe);
  return described.find((d) => d.qualified) ?? described[0] ?? { qualified: false };
}
