import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runDemo } from '../../src/harness/demo.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import type { QerdsConfigInput } from '../../src/config/index.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki, foreignTestPki } from '../helpers/pki.js';

export interface TwoAccessPointsMode {
  /** Appended to the suite names, e.g. ' [PostgreSQL + BullMQ]'. Empty for the embedded default. */
  readonly label: string;
  /**
   * Settings of the two APs of one network: `network` names it ('demo', 'rest') so each gets its own
   * resources (schemas, queue prefixes). Undefined: the embedded default (SQLite, in-process queue).
   */
  readonly overrides?: (network: string) => Promise<(name: 'c2' | 'c3') => QerdsConfigInput>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The end-to-end suite: the demo path, CLI verification and REST edge cases on two APs over loopback.
 * Runs on the embedded default (two-access-points.test.ts) and on PostgreSQL + BullMQ
 * (two-access-points-postgres.test.ts).
 */
export function describeTwoAccessPoints(mode: TwoAccessPointsMode): void {
  const label = mode.label;
  const work = mkdtempSync(join(tmpdir(), 'qerds-it-'));
  const pkiDir = join(work, 'pki');
  const outDir = join(work, 'demo-out');

  /** `qerds <args>` in this process: the one real launch of `qerds verify` is in test/cli/verify-command.test.ts. */
  const qerds = (...args: string[]) => qerdsInProcess(args);

  describe(`two access points over real HTTP on loopback (the demo path)${label}`, () => {
    const lines: string[] = [];
    let invalid = -1;

    beforeAll(async () => {
      await devTestPki(pkiDir);
      invalid = await runDemo({
        outDir,
        pkiDir,
        invoice: join(root, 'examples/ubl-invoice-jp.xml'),
        timeoutMs: 40_000,
        print: (l) => lines.push(l),
        overrides: await mode.overrides?.('demo'),
      });
    }, 90_000);

    it('delivers the invoice and brings back the whole evidence chain, every file verifying', () => {
      expect(invalid, lines.join('\n')).toBe(0);
      const files = readdirSync(join(outDir, 'evidence')).sort();
      expect(files).toEqual([
        '1-SubmissionAcceptance.xml',
        '2-RelayAcceptance.xml',
        '3-ContentConsignment.xml',
        '4-ContentHandover.xml',
      ]);
    });

    it('every evidence signature verifies with xmlsec1 against the dev CA', () => {
      const ca = devPkiLayout(pkiDir).caCert;
      for (const file of readdirSync(join(outDir, 'evidence'))) {
        const result = spawnSync(
          'xmlsec1',
          [
            '--verify',
            '--trusted-pem',
            ca,
            '--id-attr:Id',
            'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
            join(outDir, 'evidence', file),
          ],
          { encoding: 'utf8' },
        );
        expect(result.status, `${file}: ${result.stderr}`).toBe(0);
        expect(result.stderr).toMatch(/^OK/m);
      }
    });

    it('qerds verify says VALID for an evidence file and exits 0', async () => {
      const result = await qerds(
        'verify',
        '--trust',
        devPkiLayout(pkiDir).caCert,
        join(outDir, 'evidence', '4-ContentHandover.xml'),
      );
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^VALID/);
      expect(result.stdout).toMatch(/ContentHandover/);
    });

    it('qerds verify says INVALID, with the reason, for a file altered by one byte', async () => {
      const original = readFileSync(join(outDir, 'evidence', '1-SubmissionAcceptance.xml'), 'utf8');
      const at = original.indexOf('<EventTime>') + '<EventTime>'.length + 3; // a digit of the year
      const altered = original.slice(0, at) + (original[at] === '7' ? '8' : '7') + original.slice(at + 1);
      const file = join(work, 'altered.xml');
      writeFileSync(file, altered);
      const result = await qerds('verify', '--trust', devPkiLayout(pkiDir).caCert, file);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/^INVALID \(TOTAL-FAILED\): HASH_FAILURE .+/);
      const json = JSON.parse(
        (await qerds('verify', '--json', '--trust', devPkiLayout(pkiDir).caCert, file)).stdout,
      );
      expect(json.indication).toBe('TOTAL-FAILED');
    });

    it('qerds verify says INVALID for evidence sealed by a certificate outside the trust store', async () => {
      const result = await qerds(
        'verify',
        '--trust',
        foreignTestPki().caCert,
        join(outDir, 'evidence', '2-RelayAcceptance.xml'),
      );
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/^INVALID \(INDETERMINATE\): NO_CERTIFICATE_CHAIN_FOUND/);
    });
  });

  describe(`REST API edge cases${label}`, () => {
    useOpenApiContract();
    let net: TwoAccessPoints;
    beforeAll(async () => {
      await devTestPki(pkiDir);
      net = await startTwoAccessPoints({
        outDir: join(work, 'rest'),
        pkiDir,
        overrides: await mode.overrides?.('rest'),
      });
    }, 60_000);
    afterAll(() => net?.stop());

    const submit = (key: string, metadata: unknown) => {
      const form = new FormData();
      form.set('metadata', JSON.stringify(metadata));
      form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
      return fetch(`${net.c2.url}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
    };

    it('refuses a submission without or with a wrong API key (401 problem+json), storing nothing', async () => {
      const before = await accessPointInternals(net.c2).context.store.listMessages();
      const response = await submit('wrong-key-000000000000', { recipient: RECIPIENT.id });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await response.json()).code).toBe('AUTH_REQUIRED');
      expect(await accessPointInternals(net.c2).context.store.listMessages()).toHaveLength(before.length);
    });

    it('rejects an unknown recipient with 422 and a sealed SubmissionRejection the sender can fetch', async () => {
      const response = await submit(SENDER.key, { recipient: '0188:0000000000000' });
      expect(response.status).toBe(422);
      const problem = await response.json();
      expect(problem.code).toBe('SUBMISSION_REJECTED');
      const evidence = problem.message.evidence[0];
      expect(evidence.event).toBe('SubmissionRejection');
      const xml = await (
        await fetch(net.c2.url + evidence.href, { headers: { authorization: `Bearer ${SENDER.key}` } })
      ).text();
      expect(xml).toContain('http://uri.etsi.org/19522/Event/SubmissionRejection');
      expect(xml).toContain('http://uri.etsi.org/19522/EventReason/S_ERDS_PolicyViolation');
    });

    it('rejects malformed metadata with 400 and names the field', async () => {
      const response = await submit(SENDER.key, { recipient: 'no-scheme' });
      expect(response.status).toBe(400);
      expect((await response.json()).detail).toMatch(/recipient/);
    });

    it('does not show a message to a participant who is neither sender nor recipient', async () => {
      const response = await submit(SENDER.key, { recipient: RECIPIENT.id });
      const { id } = (await response.json()) as { id: string };
      const other = await fetch(`${net.c3.url}/api/v1/messages/${id}`, {
        headers: { authorization: `Bearer ${RECIPIENT.key}` },
      });
      expect(other.status).toBe(404);
      const own = await api<{ id: string; state: string }>(net.c2.url, SENDER.key, `/api/v1/messages/${id}`);
      expect(own.id).toBe(id);
    });

    it('serves every path that schemas/openapi.yaml describes', async () => {
      const spec = parseYaml(readFileSync(join(root, 'schemas/openapi.yaml'), 'utf8')) as {
        paths: Record<string, Record<string, unknown>>;
      };
      for (const [path, operations] of Object.entries(spec.paths)) {
        // A path with its own `servers` (e.g. /pickup, outside /api/v1) is served from the AP's root.
        const base = operations.servers ? '' : '/api/v1';
        // The operator API is mounted only with admin keys (none here); dead-letters.test.ts serves it.
        if (path.startsWith('/admin/') && net.c2.config.adminKeys.length === 0) continue;
        for (const method of Object.keys(operations).filter((key) =>
          ['get', 'put', 'post', 'delete', 'patch'].includes(key),
        )) {
          const url = `${net.c2.url}${base}${path.replace(/\{[^}]+\}/g, 'x')}`;
          const response = await fetch(url, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${SENDER.key}` },
          });
          const body = response.headers.get('content-type')?.includes('json') ? await response.json() : {};
          // Routed (not the catch-all 404), and answered: a made-up id or an empty body is the client's error
          // (4xx), never a server failure.
          expect(body.detail, `${method} ${path}`).not.toBe('no such resource');
          expect(response.status, `${method} ${path}: ${JSON.stringify(body)}`).toBeLessThan(500);
        }
      }
    });

    it('answers /healthz and /readyz', async () => {
      expect((await fetch(`${net.c2.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${net.c2.url}/readyz`);
      expect(ready.status).toBe(200);
      const { checks } = await ready.json();
      expect(checks.store).toBe('ok');
      // With BullMQ, Redis is probed too; the CRLs and trusted lists held are current (the dev CRL: 30 days). Every probe is ok.
      expect(Object.keys(checks).sort()).toEqual(
        net.c2.config.queue.kind === 'bullmq'
          ? ['redis', 'store', 'validationData']
          : ['store', 'validationData'],
      );
      expect(Object.values(checks).every((v) => v === 'ok')).toBe(true);
    });
  });
}
