/** Configuration sections: This AP's identity, its HTTP listener and its log (assembled in config/schema.ts). */
import { z } from 'zod';
import { httpUrl } from './fields.js';

export const ap = z
  .strictObject({
    /** Human-readable name of this AP, in evidence as the issuer's LegalName. @defaultValue 'qerds-ap' */
    name: z.string().default('qerds-ap'),
    /**
     * Identifier of this ERDS (evidence issuer id, ebMS PartyId). The e-seal's organizationIdentifier must be
     * this value, or the AP does not start (access-point/seal-names-ap.ts). @defaultValue 'urn:qerds-ap:ap:c2'
     * (what the dev PKI's seal of the default `pki.apName` names: src/pki/dev-ap-id.ts)
     */
    id: z.string().default('urn:qerds-ap:ap:c2'),
    /** Evidence issuer policy URIs (EvidenceIssuerPolicyID). */
    policyIds: z.array(z.string()).default(['urn:qerds-ap:policy:dev:v1']),
  })
  .prefault({});

export const http = z
  .strictObject({
    /**
     * Address the listener binds. The default takes connections from this machine only; `0.0.0.0` (or `::`) takes
     * them on every interface.
     * @defaultValue '127.0.0.1'
     */
    host: z.string().default('127.0.0.1'),
    /** TCP port; 0 picks a free one. @defaultValue 8080 */
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /**
     * This AP's own URL in what it sends out (pickup links, recipient notices, the REST URLs in webhooks); default:
     * `http://` (`https://` with `tls`) `<host>:<the port listened on>`.
     */
    publicUrl: httpUrl().optional(),
    /**
     * Serve HTTPS (TLS 1.2 or later) instead of HTTP. With `clientCa`, clients may present a certificate
     * (mutual TLS) that the CA issued; `requestClientCert` asks every client for one. @defaultValue none (HTTP)
     */
    tls: z
      .object({
        /** Server certificate (PEM, chain after the leaf). */
        cert: z.string(),
        /** Server private key (PEM). */
        key: z.string(),
        /** CA certificates (PEM) that issue client certificates. */
        clientCa: z.string().optional(),
        /** Ask clients for a certificate during the handshake (needed for mTLS). @defaultValue false */
        requestClientCert: z.boolean().default(false),
        /**
         * Refuse, during the TLS handshake, every client without a certificate `clientCa` issued (mutual TLS
         * for an AS4-only listener between APs). The REST API on the same port then needs client
         * certificates too. Implies `requestClientCert`; needs `clientCa`. @defaultValue false
         */
        requireClientCert: z.boolean().default(false),
      })
      .strict()
      .refine((t) => !t.requireClientCert || t.clientCa !== undefined, 'requireClientCert needs clientCa')
      .optional(),
  })
  .prefault({});

export const log = z
  .strictObject({
    /** pino level: the lowest level of the lines written (`trace` the most, `silent` none). @defaultValue 'info' */
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});
