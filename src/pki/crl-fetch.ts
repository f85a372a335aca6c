import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { readBodyAtMost } from '../core/response-body.js';
import { x509 } from './x509.js';

export interface FetchCrlOptions {
  /** Whole request, headers and body, in ms. @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** Largest CRL accepted, in bytes (counted while it arrives). @defaultValue 20 MiB */
  readonly maxBytes?: number;
}

/**
 * The http URLs of a certificate's CRL Distribution Points (RFC 5280 §4.2.1.13, fullName URIs). Only http:
 * a CRL is signed, so it needs no TLS, and fetching it over https would make the TLS check depend on the very
 * CRL being fetched (RFC 5280 §4.2.1.13 recommends http or ldap; ldap is not supported here).
 */
export function crlDistributionPointUrls(cert: X509Certificate): string[] {
  const ext = new x509.X509Certificate(Uint8Array.from(cert.raw)).getExtension(
    x509.CRLDistributionPointsExtension,
  );
  if (!ext) return [];
  const urls = ext.distributionPoints.flatMap((dp) =>
    (dp.distributionPoint?.fullName ?? []).flatMap((name) =>
      name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [],
    ),
  );
  return urls.filter((url) => /^http:\/\//i.test(url));
}

/**
 * GET a CRL over plain http. Throws `PKI_CRL_FETCH_FAILED` on a non-http URL, a redirect (not followed: it
 * could lead anywhere, https included), a status other than 200, a timeout, or a body past `maxBytes`
 * (a peer-controlled size: refused while it arrives, never buffered whole).
 */
export async function fetchCrl(url: string, options: FetchCrlOptions = {}): Promise<Buffer> {
  if (!/^http:\/\//i.test(url))
    throw new QerdsError('PKI_CRL_FETCH_FAILED', `${url}: only http CRL distribution points are fetched`);
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  try {
    const res = await fetch(url, {
      redirect: 'error',
      signal,
      headers: { accept: 'application/pkix-crl, application/x-pkcs7-crl, */*' },
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new Error(`the CRL is ${declared} bytes, more than ${maxBytes}`);
    }
    const body = await readBodyAtMost(res, maxBytes);
    if (!body) throw new Error(`the CRL is more than ${maxBytes} bytes`);
    return body;
  } catch (cause) {
    const why = signal.aborted
      ? `no answer within ${options.timeoutMs ?? 10_000} ms`
      : (cause as Error).message;
    throw new QerdsError('PKI_CRL_FETCH_FAILED', `${url}: ${why}`, { cause });
  }
}
