import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { initDevPki } from '../src/pki/index.js';
import { startApCluster } from '../test/helpers/ap-cluster.js';
import { peakRssBytes } from '../test/helpers/large-payload.js';

/**
 * Unauthenticated denial of service at /as4: how long `/healthz` of C3 waits while a peer posts a
 * costly SOAP envelope, and C3's peak RSS (VmHWM), for three attacks: one attribute-laden envelope of
 * BENCH_DOS_MB MiB, four of them at once, and a 100 000-deep one. Run: `npx tsx bench/as4-dos.ts`.
 */
const MiB = 1024 * 1024;

function attributeEnvelope(bytes: number): Buffer {
  const el = '<x:e a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8"/>';
  const head =
    '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:x="urn:x"><S:Header/><S:Body>';
  const tail = '</S:Body></S:Envelope>';
  return Buffer.from(head + el.repeat(Math.floor((bytes - head.length - tail.length) / el.length)) + tail);
}

function deepEnvelope(depth: number): Buffer {
  return Buffer.from(
    `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</S:Body></S:Envelope>`,
  );
}

function post(url: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/soap+xml; charset=UTF-8', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end(body);
  });
}

/** Polls /healthz one request at a time while `attack` runs; the longest wait is the time the event loop was held. */
async function measure(
  healthz: string,
  attack: () => Promise<unknown[]>,
): Promise<{ maxHealthzMs: number; results: unknown[] }> {
  let running = true;
  let maxHealthzMs = 0;
  const poller = (async () => {
    while (running) {
      const t = performance.now();
      // A failed probe counts for the time it waited (a reset connection is a refusal of service too).
      await fetch(healthz).then(
        (r) => r.text(),
        () => undefined,
      );
      maxHealthzMs = Math.max(maxHealthzMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const results = await attack();
  running = false;
  await poller;
  return { maxHealthzMs, results };
}

async function main(): Promise<void> {
  const mb = Number(process.env.BENCH_DOS_MB ?? 50);
  const work = mkdtempSync(join(tmpdir(), 'qerds-bench-dos-'));
  const pkiDir = join(work, 'pki');
  await initDevPki({ dir: pkiDir });
  const cluster = await startApCluster({ kind: 'embedded', work, pkiDir });
  try {
    const as4 = `${cluster.c3Url}/as4`;
    const healthz = `${cluster.c3Url}/healthz`;
    const pid = cluster.pid('c3')!;
    const show = (name: string, m: { maxHealthzMs: number; results: unknown[] }) =>
      console.log(
        `${name}: /healthz max ${m.maxHealthzMs.toFixed(0)} ms; C3 peak RSS ${(peakRssBytes(pid) / MiB).toFixed(0)} MiB; answers ${m.results.map((r) => (r as { status: number }).status).join(',')}`,
      );
    console.log(`C3 idle peak RSS ${(peakRssBytes(pid) / MiB).toFixed(0)} MiB`);
    const big = attributeEnvelope(mb * MiB);
    show(`one ${mb} MiB attribute envelope`, await measure(healthz, async () => [await post(as4, big)]));
    const deep = deepEnvelope(100_000);
    const d = await measure(healthz, async () => [await post(as4, deep)]);
    show('100k-deep envelope', d);
    console.log(`  deep answer: ${(d.results[0] as { body: string }).body.slice(0, 300) || '(empty body)'}`);
    const huge = attributeEnvelope(95 * MiB);
    show(
      'four 95 MiB envelopes at once',
      await measure(healthz, () => Promise.all([1, 2, 3, 4].map(() => post(as4, huge)))),
    );
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
