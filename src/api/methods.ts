/**
 * AuthenticationMethod URIs written in evidence (REQ3 / REQ4). EN 319 522 leaves the method's URI to the
 * provider; these are ours, one per way a participant can prove who it is at this AP.
 */
/** A bearer API key (shared secret): AAL1. */
export const API_KEY_METHOD = 'urn:qerds-ap:authentication:api-key';
/** An OAuth2 access token obtained with client credentials (RFC 6749 §4.4, shared client secret): AAL1. */
export const OAUTH2_CLIENT_CREDENTIALS_METHOD = 'urn:qerds-ap:authentication:oauth2-client-credentials';
/** A TLS client certificate verified in the handshake (mutual TLS): AAL2, AAL3 with a hardware-bound key. */
export const MTLS_METHOD = 'urn:qerds-ap:authentication:mtls-client-certificate';
/** The participant's own e-seal (XAdES) on the submitted XML: AAL2, AAL3 with a hardware-bound key. */
export const ESEAL_METHOD = 'urn:qerds-ap:authentication:e-seal';
/** A one-time pickup link (possession of the notified mailbox) plus a TOTP code (RFC 6238): AAL2, for people. */
export const PICKUP_LINK_TOTP_METHOD = 'urn:qerds-ap:authentication:pickup-link+totp';
/** A one-time pickup link plus a password: AAL1 (the link's mailbox is no authenticator of its own, NIST SP 800-63B §5.1.3.1). */
export const PICKUP_LINK_PASSWORD_METHOD = 'urn:qerds-ap:authentication:pickup-link+password';
