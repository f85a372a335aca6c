import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devTestPki } from '../helpers/pki.js';

/** Two APs on loopback for the attack tests: the attack goes at C3, then a valid message must still go through. */
export async function startTarget(
  prefix: string,
  options: Omit<Parameters<typeof startTwoAccessPoints>[0], 'outDir' | 'pkiDir'> = {},
): Promise<TwoAccessPoints> {
  const work = mkdtempSync(join(tmpdir(), `qerds-attack-${prefix}-`));
  const pkiDir = join(work, 'pki');
  await devTestPki(pkiDir);
  return startTwoAccessPoints({ outDir: work, pkiDir, ...options });
}

/** Messages C3 holds for the recipient (any state): an attack must add none. */
export async function messagesAtC3(net: TwoAccessPoints): Promise<number> {
  const page = await accessPointInternals(net.c3).context.store.listInbox({
    recipient: RECIPIENT.id,
    states: ['received', 'awaiting-acceptance', 'accepted', 'consigned', 'delivered', 'failed', 'rejected'],
    limit: 500,
  });
  return page.messages.length;
}

/** C1 submits at C2; resolves with C2's message id once C3 received it (RelayAcceptance back at C2). */
export async function sendValidMessage(net: TwoAccessPoints): Promise<string> {
  const form = new FormData();
  form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
  form.append(
    'payload',
    new Blob(['<Invoice>after the attack</Invoice>'], { type: 'application/xml' }),
    'i.xml',
  );
  const { id } = await api<{ id: string }>(net.c2.url, SENDER.key, '/api/v1/messages', {
    method: 'POST',
    body: form,
  });
  await waitFor(
    async () => {
      const chain = await api<Array<{ event: string }>>(
        net.c2.url,
        SENDER.key,
        `/api/v1/messages/${id}/evidence`,
      );
      return chain.some((e) => e.event === 'RelayAcceptance') ? true : undefined;
    },
    { timeoutMs: 30_000 },
  );
  return id;
}
