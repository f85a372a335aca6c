import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { DevPkiLayout } from '../../src/pki/index.js';

/** A client certificate (and key) made by the openssl CLI, signed by the dev CA unless `selfSigned`. */
export interface ClientCert {
  readonly cert: string;
  readonly key: string;
  readonly fingerprint256: string;
}

/**
 * openssl-made certificates for the identification tests: mTLS client certificates and e-seal
 * certificates signed by the dev CA; `expired` one valid only in January 2021 (`openssl ca` with explicit dates); `selfSigned` one no
 * CA we trust issued.
 */
export function makeCertificate(
  pki: DevPkiLayout,
  dir: string,
  name: string,
  subject: string,
  options: { usage: 'client' | 'seal' | 'encryption'; expired?: boolean; selfSigned?: boolean },
): ClientCert {
  const cert = join(dir, `${name}.crt.pem`);
  const key = join(dir, `${name}.key.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    options.usage === 'client'
      ? 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
      : options.usage === 'encryption'
        ? 'basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\n'
        : 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n',
  );
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  if (options.selfSigned) {
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      subject,
      '-days',
      '30',
      '-extensions',
      'v3_req',
      '-addext',
      'extendedKeyUsage=clientAuth',
    ]);
  } else {
    const csr = join(dir, `${name}.csr`);
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
    if (options.expired) {
      // `openssl ca` takes explicit validity dates (x509 -req of OpenSSL 3.0 does not): January 2021.
      const db = join(dir, `${name}-ca`);
      mkdirSync(db, { recursive: true });
      writeFileSync(join(db, 'index.txt'), '');
      writeFileSync(join(db, 'serial'), `${Date.now().toString(16).padStart(12, '0')}\n`);
      writeFileSync(
        join(db, 'ca.cnf'),
        `[ca]\ndefault_ca=x\n[x]\ndatabase=${db}/index.txt\nserial=${db}/serial\nnew_certs_dir=${db}\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n`,
      );
      run([
        'ca',
        '-batch',
        '-notext',
        '-config',
        join(db, 'ca.cnf'),
        '-in',
        csr,
        '-cert',
        pki.caCert,
        '-keyfile',
        pki.caKey,
        '-startdate',
        '20210101000000Z',
        '-enddate',
        '20210131000000Z',
        '-extfile',
        ext,
        '-out',
        cert,
      ]);
    } else {
      run([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        pki.caCert,
        '-CAkey',
        pki.caKey,
        '-set_serial',
        `0x${Date.now().toString(16)}${name.length}`,
        '-days',
        '60',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        cert,
      ]);
    }
  }
  return { cert, key, fingerprint256: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTPS request on a fresh connection (no reuse across client certificates), trusting the dev CA. */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    ca: string;
    client?: ClientCert;
  },
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: readFileSync(options.ca),
        ...(options.client
          ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }
          : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** multipart/form-data body of a submission, serialised by the platform's FormData. */
export async function submissionBody(
  metadata: Record<string, unknown>,
  payload: string,
  filename = 'invoice.xml',
): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  form.set('metadata', JSON.stringify(metadata));
  form.append('payload', new Blob([payload], { type: 'application/xml' }), filename);
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type')!,
  };
}
