import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The parts of src/ the bench drives (imported from BENCH_TIMESTAMP_SRC too, to compare with another tree). */
interface Tree {
  readonly label: string;
  readonly pki: typeof import('../src/pki/index.js');
  readonly ts: typeof import('../src/timestamp/index.js');
}

async function loadTree(label: string, srcDir: string): Promise<Tree> {
  const url = (m: string) => pathToFileURL(join(resolve(srcDir), m)).href;
  return {
    label,
    pki: (await import(url('pki/index.ts'))) as Tree['pki'],
    ts: (await import(url('timestamp/index.ts'))) as Tree['ts'],
  };
}

/** CPU µs (user + system of this process) per call of `fn`, over `n` calls. */
async function cpuPerCall(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

interface Ops {
  /** The embedded TSA answering a TimeStampReq (TSTInfo, CMS SignedData, the signature). */
  respond(i: number): Promise<unknown>;
  /** The client's side: encode a request, read and check the reply (status, nonce, imprint, token). */
  clientCheck(i: number): Promise<unknown>;
  /** createLocalTsaClient().timestamp(): request, TSA, response check (what a seal B-T pays). */
  timestamp(i: number): Promise<unknown>;
  /** verifyTimestampToken of a token with its imprint and a trust store (what every verification pays). */
  verify(i: number): Promise<unknown>;
}

async function opsOf(tree: Tree, layoutDir: string): Promise<Ops> {
  const { pki, ts } = tree;
  const layout = pki.devPkiLayout(layoutDir);
  const trust = pki.loadTrustStore([layout.caCert, layout.caCrl]);
  const authority = ts.createTimestampAuthority({
    identity: pki.loadSigningIdentity(layout.tsaCert, layout.tsaKey),
  });
  const client = ts.createLocalTsaClient(authority);
  const imprints = Array.from({ length: 64 }, () => ({
    algorithm: 'sha256' as const,
    digest: createHash('sha256').update(randomBytes(32)).digest(),
  }));
  const requests = imprints.map((imprint) => ts.encodeTimestampRequest(imprint, { certReq: true }));
  const responses = await Promise.all(requests.map((r) => authority.respond(r.der)));
  const tokens = await Promise.all(imprints.map((imprint) => client.timestamp(imprint)));
  // Every fixture must pass before it is timed: a bench of a failing check would measure the wrong path.
  for (const [i, t] of tokens.entries()) {
    const v = await ts.verifyTimestampToken(t.der, { imprint: imprints[i]!, trust });
    if (!v.valid)
      throw new Error(`${tree.label}: bench token does not verify: ${JSON.stringify(v.findings)}`);
  }
  const at = (i: number) => i % imprints.length;
  return {
    respond: (i) => authority.respond(requests[at(i)]!.der),
    async clientCheck(i) {
      const imprint = imprints[at(i)]!;
      // A fresh request each time (as the client does), answered with the stored reply to the stored nonce.
      ts.encodeTimestampRequest(imprint, { certReq: true });
      return ts.acceptTimestampResponse(responses[at(i)]!, {
        imprint,
        nonce: requests[at(i)]!.nonce,
        certificates: [authority.certificate],
      });
    },
    timestamp: (i) => client.timestamp(imprints[at(i)]!),
    async verify(i) {
      const v = await ts.verifyTimestampToken(tokens[at(i)]!.der, { imprint: imprints[at(i)]!, trust });
      if (!v.valid) throw new Error('token does not verify');
    },
  };
}

/**
 * RFC 3161 per operation, CPU µs (this process's user + system, so that figures hold on a loaded machine): the
 * embedded TSA's response, the client's request + response check, the whole local timestamp() and a token
 * verification with a trust store, for an RSA-2048 and an ECDSA P-256 TSA key. With BENCH_TIMESTAMP_SRC=<dir>
 * the same operations of that source tree (e.g. /work/wt/base/src) run too, in alternating rounds, and the
 * ratio other/this of each round's figures is printed. BENCH_TIMESTAMP_N calls per operation and round
 * (default 400), BENCH_TIMESTAMP_ROUNDS rounds (default 3).
 */
export async function benchTimestamp(): Promise<void> {
  const n = Number(process.env.BENCH_TIMESTAMP_N ?? 400);
  const rounds = Number(process.env.BENCH_TIMESTAMP_ROUNDS ?? 3);
  const trees = [await loadTree('this tree', join(import.meta.dirname, '..', 'src'))];
  const other = process.env.BENCH_TIMESTAMP_SRC;
  if (other) trees.push(await loadTree(other, other));
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-timestamp-'));
  try {
    for (const key of ['rsa', 'ec'] as const) {
      const layoutDir = join(dir, key);
      await trees[0]!.pki.initDevPki({ dir: layoutDir, aps: [], recipients: [], key });
      const ops = await Promise.all(trees.map((t) => opsOf(t, layoutDir)));
      // Warm-up: JIT, first parses of the TSA certificate and the CRL.
      for (const o of ops)
        for (const name of Object.keys(o) as (keyof Ops)[]) await cpuPerCall(Math.min(100, n), o[name]);
      console.log(`\n${key === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} TSA key, ${n} calls per figure`);
      for (let r = 0; r < rounds; r++) {
        const rows: string[] = [];
        for (const name of ['respond', 'clientCheck', 'timestamp', 'verify'] as const) {
          const figures: number[] = [];
          // Alternate which tree goes first, so neither always runs right after the other's garbage.
          const order = r % 2 === 0 ? ops.map((_, i) => i) : ops.map((_, i) => ops.length - 1 - i);
          for (const t of order) figures[t] = await cpuPerCall(n, ops[t]![name]);
          const cols = figures.map((f) => `${f.toFixed(0).padStart(6)} µs`).join('  ');
          const ratio = figures.length > 1 ? `   other/this ${(figures[1]! / figures[0]!).toFixed(2)}` : '';
          rows.push(`  ${name.padEnd(12)}${cols}${ratio}`);
        }
        console.log(
          `round ${r + 1} (${trees.map((t) => t.label).join(' | ')}; load ${loadavg()[0]!.toFixed(2)})\n${rows.join('\n')}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
