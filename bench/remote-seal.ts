import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequentialIdGenerator } from '../src/core/ids.js';
import {
  createSoftHsmSealToken,
  initDevPki,
  loadSigningIdentity,
  openPkcs11Signer,
  softwareSigner,
  type Signer,
} from '../src/pki/index.js';
import { sealEnvelopingCms, sealXml } from '../src/seal/index.js';
import { opensslEcSeal } from '../test/helpers/xmlsec.js';

/**
 * Remote e-seal: seals per second with the key in a softhsm2 token (PKCS#11, pkcs11js) beside the
 * same seal with a node:crypto key, in the same run, RSA-2048 and ECDSA P-256:
 * - raw signature over 1 KiB (the key operation alone);
 * - XAdES B-B enveloped over a ~1 KiB invoice (what C2 does for XML content, without the TSA);
 * - enveloping CAdES B-B over 64 KiB of binary content.
 * Sequential (one seal at a time: a PKCS#11 session signs one at a time) after a warm-up.
 */
export async function benchRemoteSeal(): Promise<void> {
  const n = Number(process.env.BENCH_SEALS ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-remote-seal-'));
  const { layout } = await initDevPki({ dir: join(dir, 'pki'), recipients: [] });
  const tokens = { rsa: await token('rsa'), ec: await token('ec') };
  const ec = opensslEcSeal(layout, 'Bench EC e-seal');
  const pairs: { name: string; node: Signer; token: Signer }[] = [
    {
      name: 'RSA-2048',
      node: softwareSigner(loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey)),
      token: await open('rsa'),
    },
    {
      name: 'ECDSA P-256',
      node: softwareSigner(loadSigningIdentity(ec.certFile, ec.keyFile)),
      token: await open('ec'),
    },
  ];
  const invoice = `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">${'<Line><ID>1</ID><Amount>100</Amount></Line>'.repeat(24)}</Invoice>`;
  const binary = Buffer.alloc(64 * 1024, 7);
  const data = Buffer.alloc(1024, 1);
  const clock = { now: () => new Date() };
  console.log(
    `settings: ${n} seals per figure, sequential; softhsm2 ${tokens.rsa.module}; XAdES B-B over ${invoice.length} B XML; CAdES B-B enveloping over 64 KiB`,
  );

  for (const pair of pairs) {
    const figures: Record<string, { node: number; token: number }> = {};
    const measure = async (what: string, run: (signer: Signer) => Promise<unknown>) => {
      for (const signer of [pair.node, pair.token]) for (let i = 0; i < 10; i++) await run(signer);
      figures[what] = {
        node: await rate(n, () => run(pair.node)),
        token: await rate(n, () => run(pair.token)),
      };
    };
    await measure('raw signature', (s) => s.sign(data, { digest: 'sha256', dsaEncoding: 'der' }));
    await measure('XAdES B-B', (s) =>
      sealXml(invoice, { identity: s, clock, idGenerator: sequentialIdGenerator() }),
    );
    await measure('CAdES B-B enveloping', (s) => sealEnvelopingCms(binary, { identity: s, clock }));
    console.log(`\n${pair.name}`);
    for (const [what, f] of Object.entries(figures)) {
      console.log(
        `  ${what.padEnd(22)} node:crypto ${f.node.toFixed(1).padStart(8)} /s   token ${f.token.toFixed(1).padStart(8)} /s   → token / node = ${(f.token / f.node).toFixed(2)}`,
      );
    }
  }
  for (const pair of pairs) (pair.token as Signer & { close(): void }).close();
  rmSync(dir, { recursive: true, force: true });

  async function token(keyType: 'rsa' | 'ec') {
    return createSoftHsmSealToken({
      pkiDir: layout.dir,
      dir: join(dir, 'softhsm'),
      sender: `0188:bench-${keyType}`,
      tokenLabel: `bench-${keyType}`,
      keyLabel: `bench-${keyType}`,
      pin: 'bench-pin',
      soPin: 'bench-so-pin',
      keyType,
    });
  }
  async function open(keyType: 'rsa' | 'ec') {
    const t = tokens[keyType];
    return openPkcs11Signer(
      { module: t.module, tokenLabel: `bench-${keyType}`, keyLabel: `bench-${keyType}`, pin: 'bench-pin' },
      t.certificate,
    );
  }
}

async function rate(n: number, run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  return n / ((performance.now() - t0) / 1000);
}
