import { join } from 'node:path';
import { accessPointInternals } from '../../src/access-point/internals.js';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { waitFor } from './wait.js';

/** C2 and C3 of the dev PKI in `pkiDir`, each with one worker thread in its pool (`<work>/net`). */
export function startPooledAccessPoints(work: string, pkiDir: string): Promise<TwoAccessPoints> {
  return startTwoAccessPoints({
    outDir: join(work, 'net'),
    pkiDir,
    logLevel: 'silent',
    overrides: { performance: { workerThreads: 1 } },
  });
}

/** Submits `text` from the harness sender to its recipient at C2 over REST; the message id. */
export async function submitText(net: TwoAccessPoints, text: string): Promise<string> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append('payload', new Blob([text], { type: 'text/plain' }), 'p.txt');
  return (
    await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })
  ).id;
}

/** C2's evidence of message `id` once it holds an evidence of `event`. */
export async function evidenceAtC2Once(net: TwoAccessPoints, id: string, event: string) {
  const store = accessPointInternals(net.c2).context.store;
  await waitFor(async () => (await store.listEvidence(id)).some((e) => e.event === event) || undefined);
  return store.listEvidence(id);
}
