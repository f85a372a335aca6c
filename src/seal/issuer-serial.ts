/**
 * The content of xades:IssuerSerialV2 (EN 319 132-1 §5.2.2): the DER encoding of one IssuerSerial of
 * RFC 5035, base64 in the XML. The encoding is pki's: the same IssuerSerial goes into CMS ESSCertIDv2.
 */
export { issuerSerialDer as issuerSerialV2Der } from '../pki/index.js';
