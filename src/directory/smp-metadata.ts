import { QerdsError } from '../core/index.js';
import type { SmpIdentifier } from './types.js';
import { PEPPOL_SMP1_NS } from '../xml/index.js';
import { child, children, text } from './smp-xml.js';

/** Namespaces of the three SMP dialects read here. */
export const SMP_NS = {
  /** OASIS BDXR SMP 1.0 (2016/05). */
  smp1: 'http://docs.oasis-open.org/bdxr/ns/SMP/2016/05',
  /** Peppol SMP 1.x (BusDox). */
  peppol: PEPPOL_SMP1_NS,
  peppolIds: 'http://busdox.org/transport/identifiers/1.0/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  /** OASIS BDXR SMP 2.0. */
  smp2: 'http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceMetadata',
  smp2Basic: 'http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents',
  smp2Aggregate: 'http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents',
} as const;

export type SmpDialect = 'smp1' | 'peppol' | 'smp2';

/** One certificate of an endpoint: SMP 1.0 / Peppol carry one (the AP's), SMP 2.0 may type several. */
export interface SmpCertificate {
  readonly der: Buffer;
  /** SMP 2.0 `TypeCode`. */
  readonly typeCode?: string;
}

/**
 * An endpoint as published. SMP 1.0 (`EndpointType`):
 * ```xml
 * <xs:sequence> <xs:element name="EndpointURI" type="xs:anyURI"/> <xs:element name="RequireBusinessLevelSignature" type="xs:boolean"/>
 *   <xs:element name="MinimumAuthenticationLevel" type="xs:string" minOccurs="0"/> <xs:element name="ServiceActivationDate" type="xs:dateTime" minOccurs="0"/>
 *   <xs:element name="ServiceExpirationDate" type="xs:dateTime" minOccurs="0"/> <xs:element name="Certificate" type="xs:base64Binary"/> …
 * </xs:sequence> <xs:attribute name="transportProfile" type="xs:string" use="required"/>
 * ```
 * SMP 2.0 (`sma:Endpoint`): `smb:TransportProfileID`, `smb:AddressURI`, `smb:ActivationDate`, `smb:ExpirationDate`, `sma:Certificate*`.
 */
export interface SmpEndpoint {
  readonly transportProfile: string;
  readonly address: string;
  readonly activation?: Date;
  readonly expiration?: Date;
  readonly minimumAuthenticationLevel?: string;
  readonly description?: string;
  readonly certificates: readonly SmpCertificate[];
}

export interface SmpProcess {
  readonly processId?: SmpIdentifier;
  readonly endpoints: readonly SmpEndpoint[];
}

/** ServiceMetadata of one participant and one document type (SMP 1.0 §3.4, SMP 2.0 §5.3). */
export interface SmpServiceMetadata {
  readonly dialect: SmpDialect;
  readonly participant?: SmpIdentifier;
  readonly documentType?: SmpIdentifier;
  /** Set when the SMP answers with a Redirect to another SMP instead of endpoints. */
  readonly redirect?: string;
  readonly processes: readonly SmpProcess[];
}

/** Read ServiceMetadata from the signed document (`SignedServiceMetadata` for SMP 1.0 / Peppol, `ServiceMetadata` for SMP 2.0). */
export function readServiceMetadata(doc: Document): SmpServiceMetadata {
  const root = doc.documentElement!;
  const ns = root.namespaceURI ?? '';
  if (ns === SMP_NS.smp2 && root.localName === 'ServiceMetadata') return readSmp2(root);
  if ((ns === SMP_NS.smp1 || ns === SMP_NS.peppol) && root.localName === 'SignedServiceMetadata') {
    return readSmp1(root, ns === SMP_NS.smp1 ? 'smp1' : 'peppol');
  }
  throw malformed(`unexpected root element {${ns}}${root.localName}`);
}

function readSmp1(root: Element, dialect: 'smp1' | 'peppol'): SmpServiceMetadata {
  const ns = [dialect === 'smp1' ? SMP_NS.smp1 : SMP_NS.peppol];
  const ids = dialect === 'smp1' ? ns : [SMP_NS.peppolIds];
  const metadata = child(root, ns, 'ServiceMetadata') ?? fail('ServiceMetadata missing');
  const redirect = child(metadata, ns, 'Redirect');
  if (redirect) return { dialect, redirect: redirect.getAttribute('href') ?? '', processes: [] };
  const info = child(metadata, ns, 'ServiceInformation') ?? fail('ServiceInformation missing');
  const processList = child(info, ns, 'ProcessList');
  const processes = (processList ? children(processList, ns, 'Process') : []).map((process) => ({
    processId: identifier(child(process, ids, 'ProcessIdentifier'), 'scheme'),
    endpoints: children(child(process, ns, 'ServiceEndpointList') ?? process, ns, 'Endpoint').map((e) => {
      const address =
        dialect === 'smp1'
          ? text(child(e, ns, 'EndpointURI'))
          : text(child(child(e, [SMP_NS.wsa], 'EndpointReference') ?? e, [SMP_NS.wsa], 'Address'));
      const certificate = text(child(e, ns, 'Certificate'));
      return {
        transportProfile: e.getAttribute('transportProfile') || fail('Endpoint without transportProfile'),
        address: address ?? fail('Endpoint without address'),
        activation: dateOf(text(child(e, ns, 'ServiceActivationDate'))),
        expiration: dateOf(text(child(e, ns, 'ServiceExpirationDate'))),
        minimumAuthenticationLevel: text(child(e, ns, 'MinimumAuthenticationLevel')),
        description: text(child(e, ns, 'ServiceDescription')),
        certificates: certificate ? [{ der: base64Der(certificate) }] : [],
      };
    }),
  }));
  return {
    dialect,
    participant: identifier(child(info, ids, 'ParticipantIdentifier'), 'scheme'),
    documentType: identifier(child(info, ids, 'DocumentIdentifier'), 'scheme'),
    processes,
  };
}

function readSmp2(root: Element): SmpServiceMetadata {
  const cbc = [SMP_NS.smp2Basic];
  const cac = [SMP_NS.smp2Aggregate];
  const processes: SmpProcess[] = [];
  for (const pm of children(root, cac, 'ProcessMetadata')) {
    const redirect = child(pm, cac, 'Redirect');
    if (redirect)
      return { dialect: 'smp2', redirect: text(child(redirect, cbc, 'PublisherURI')) ?? '', processes: [] };
    const endpoints = children(pm, cac, 'Endpoint').map((e) => ({
      transportProfile:
        text(child(e, cbc, 'TransportProfileID')) ?? fail('Endpoint without TransportProfileID'),
      address: text(child(e, cbc, 'AddressURI')) ?? fail('Endpoint without AddressURI'),
      activation: dateOf(text(child(e, cbc, 'ActivationDate'))),
      expiration: dateOf(text(child(e, cbc, 'ExpirationDate'))),
      description: text(child(e, cbc, 'Description')),
      certificates: children(e, cac, 'Certificate').map((c) => ({
        der: base64Der(
          text(child(c, cbc, 'ContentBinaryObject')) ?? fail('Certificate without ContentBinaryObject'),
        ),
        typeCode: text(child(c, cbc, 'TypeCode')),
      })),
    }));
    const ids = children(pm, cac, 'Process').map((p) => identifier(child(p, cbc, 'ID'), 'schemeID'));
    // A ProcessMetadata lists the processes its endpoints serve; none means "any process" (bdx:noprocess).
    for (const processId of ids.length > 0 ? ids : [undefined]) processes.push({ processId, endpoints });
  }
  return {
    dialect: 'smp2',
    participant: identifier(child(root, cbc, 'ParticipantID'), 'schemeID'),
    documentType: identifier(child(root, cbc, 'ID'), 'schemeID'),
    processes,
  };
}

function identifier(element: Element | undefined, schemeAttribute: string): SmpIdentifier | undefined {
  const value = text(element);
  if (!element || value === undefined) return undefined;
  const scheme = element.getAttribute(schemeAttribute);
  return scheme ? { scheme, value } : { value };
}

/** xs:dateTime (or xs:date); without a zone it is read as UTC, not as this machine's local time. */
function dateOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? `${value}T00:00:00Z`
    : /(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? value
      : `${value}Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw malformed(`not a date: ${value}`);
  return date;
}

/** Certificate as base64 DER; some SMPs publish it with PEM armour, which is tolerated. */
function base64Der(value: string): Buffer {
  const b64 = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) throw malformed('Certificate is not base64');
  return Buffer.from(b64, 'base64');
}

function malformed(message: string): QerdsError {
  return new QerdsError('DIRECTORY_SMP_MALFORMED', `SMP metadata: ${message}`);
}

function fail(message: string): never {
  throw malformed(message);
}
