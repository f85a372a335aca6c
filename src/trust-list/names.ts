/** Namespace of ETSI TS 119 612 v2 trusted lists (spelled in xml/, which seal/ reads it from too). */
export { TSL_NS } from '../xml/index.js';
export const TSL_TAG = 'http://uri.etsi.org/19612/TSLTag';
/** id-tsl-kp-tslSigning (TS 119 612 §5.7.1): kept in pki, which issues the dev list signer's certificate. */
export { TSL_SIGNING_EKU } from '../pki/index.js';

/**
 * The kinds of listed service this project reads. `QESeal` is not a service type of its own in TS 119 612:
 * it is a CA/QC service whose AdditionalServiceInformation says ForeSeals (it issues qualified certificates
 * for electronic seals); it is written and read that way.
 */
export type TrustServiceType = 'CA/QC' | 'QESeal' | 'QTST' | 'QERDS';

/** ServiceTypeIdentifier URIs of TS 119 612 v2.2.1 §5.5.1.1 (qualified services under eIDAS). */
export const SERVICE_TYPE_URI = Object.freeze({
  'CA/QC': 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC',
  QTST: 'http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST',
  /** EDS/Q: a qualified electronic registered delivery service (EDS/REM/Q is the registered *mail* variant). */
  QERDS: 'http://uri.etsi.org/TrstSvc/Svctype/EDS/Q',
});
export const QERDS_MAIL_URI = 'http://uri.etsi.org/TrstSvc/Svctype/EDS/REM/Q';
export const FOR_ESEALS_URI = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals';

/** TS 119 612 v2 §5.5.4 status URIs of the EU (and the two national ones that also mean "in force"). */
export const SERVICE_STATUS_URI = Object.freeze({
  granted: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted',
  withdrawn: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn',
  recognisedatnationallevel: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel',
  deprecatedatnationallevel: 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/deprecatedatnationallevel',
});
export type ServiceStatus = keyof typeof SERVICE_STATUS_URI;

/** Statuses under which a listed service counts as qualified (in force). */
export const IN_FORCE_STATUSES: ReadonlySet<ServiceStatus | 'other'> = new Set<ServiceStatus | 'other'>([
  'granted',
  'recognisedatnationallevel',
]);
