/** id-tsl-kp-tslSigning (ETSI TS 119 612 §5.7.1): the extended key usage of a trusted list signer's certificate. */
export const TSL_SIGNING_EKU = '0.4.0.2231.3.0';
/** id-kp-OCSPSigning (RFC 6960 §4.2.2.2): a certificate its CA delegates the signing of OCSP responses to. */
export const OCSP_SIGNING_EKU = '1.3.6.1.5.5.7.3.9';
