/** id-tsl-kp-tslSigning (ETSI TS 119 612 §5.7.1): the extended key usage of a trusted list signer's certificate. */
export const TSL_SIGNING_EKU = '0.4.0.2231.3.0';
/** id-kp-OCSPSigning (RFC 6960 §4.2.2.2): a certificate its CA delegates the signing of OCSP responses to. */
export const OCSP_SIGNING_EKU = '1.3.6.1.5.5.7.3.9';
/** id-kp-timeStamping (RFC 3161 §2.3): a TSA's certificate, the sole EKU, critical. */
export const TIME_STAMPING_EKU = '1.3.6.1.5.5.7.3.8';
/** id-kp-serverAuth and id-kp-clientAuth (RFC 5280 §4.2.1.12): TLS certificates. */
export const SERVER_AUTH_EKU = '1.3.6.1.5.5.7.3.1';
export const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';
/** anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
export const ANY_EKU = '2.5.29.37.0';
