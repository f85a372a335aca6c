import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { uuidIdGenerator } from '../core/ids.js';
import { sealXml } from '../seal/index.js';
import { FOR_ESEALS_URI, SERVICE_STATUS_URI, SERVICE_TYPE_URI, TSL_NS, TSL_TAG } from './names.js';
import type { BuildTrustListOptions, TrustListServiceInput } from './types.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const time = (d: Date): string =>
  new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const name = (tag: string, text: string): string =>
  `<${tag}><Name xml:lang="en">${esc(text)}</Name></${tag}>`;
const digitalId = (cert: X509Certificate): string =>
  `<ServiceDigitalIdentity><DigitalId><X509Certificate>${cert.raw.toString('base64')}</X509Certificate></DigitalId></ServiceDigitalIdentity>`;
const typeUri = (s: TrustListServiceInput): string =>
  s.type === 'QESeal' ? SERVICE_TYPE_URI['CA/QC'] : SERVICE_TYPE_URI[s.type];

function service(s: TrustListServiceInput): string {
  // ForeSeals (TS 119 612 §5.5.9.4): this CA/QC issues qualified certificates for electronic seals.
  const extensions =
    s.type === 'QESeal'
      ? `<ServiceInformationExtensions><Extension Critical="true"><AdditionalServiceInformation><URI xml:lang="en">${FOR_ESEALS_URI}</URI></AdditionalServiceInformation></Extension></ServiceInformationExtensions>`
      : '';
  const history = [...(s.history ?? [])]
    .sort((a, b) => b.statusStartingTime.getTime() - a.statusStartingTime.getTime())
    .map(
      (h) =>
        `<ServiceHistoryInstance><ServiceTypeIdentifier>${typeUri(s)}</ServiceTypeIdentifier>${name('ServiceName', s.name)}${digitalId(s.certificate)}` +
        `<ServiceStatus>${SERVICE_STATUS_URI[h.status]}</ServiceStatus><StatusStartingTime>${time(h.statusStartingTime)}</StatusStartingTime></ServiceHistoryInstance>`,
    );
  return (
    `<TSPService><ServiceInformation><ServiceTypeIdentifier>${typeUri(s)}</ServiceTypeIdentifier>${name('ServiceName', s.name)}${digitalId(s.certificate)}` +
    `<ServiceStatus>${SERVICE_STATUS_URI[s.status]}</ServiceStatus><StatusStartingTime>${time(s.statusStartingTime)}</StatusStartingTime>${extensions}</ServiceInformation>` +
    (history.length > 0 ? `<ServiceHistory>${history.join('')}</ServiceHistory>` : '') +
    `</TSPService>`
  );
}

/**
 * A trusted list after ETSI TS 119 612 v2 (TrustServiceStatusList, one TSP holding the services given), sealed
 * with an enveloped XAdES B-B signature over the whole list (§5.7). Status history goes to ServiceHistory.
 * The output follows the element order of the TS 119 612 schema for the elements written but leaves out
 * optional ones (addresses, URIs, pointers to other lists): it is for development and tests, not an EU list.
 */
export async function buildTrustList(options: BuildTrustListOptions): Promise<string> {
  for (const s of options.services) {
    for (const h of s.history ?? []) {
      if (h.statusStartingTime >= s.statusStartingTime) {
        throw new QerdsError(
          'TL_BAD_HISTORY',
          `service ${s.name}: a history entry starts at or after the current status`,
        );
      }
    }
  }
  const tspName = options.tspName ?? options.schemeOperator;
  const xml =
    `<TrustServiceStatusList xmlns="${TSL_NS}" Id="TrustServiceStatusList" TSLTag="${TSL_TAG}">` +
    `<SchemeInformation><TSLVersionIdentifier>5</TSLVersionIdentifier><TSLSequenceNumber>${options.sequenceNumber ?? 1}</TSLSequenceNumber>` +
    `<TSLType>http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric</TSLType>${name('SchemeOperatorName', options.schemeOperator)}` +
    `${name('SchemeName', `${options.schemeOperator} trusted list`)}` +
    `<StatusDeterminationApproach>http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/EUappropriate</StatusDeterminationApproach>` +
    `<SchemeTerritory>${esc(options.territory ?? 'JP')}</SchemeTerritory>` +
    `<ListIssueDateTime>${time(options.issued)}</ListIssueDateTime><NextUpdate><dateTime>${time(options.nextUpdate)}</dateTime></NextUpdate></SchemeInformation>` +
    `<TrustServiceProviderList><TrustServiceProvider><TSPInformation>${name('TSPName', tspName)}</TSPInformation>` +
    `<TSPServices>${options.services.map(service).join('')}</TSPServices></TrustServiceProvider></TrustServiceProviderList>` +
    `</TrustServiceStatusList>`;
  return sealXml(xml, {
    identity: options.signer,
    clock: { now: () => options.issued },
    idGenerator: uuidIdGenerator,
  });
}
