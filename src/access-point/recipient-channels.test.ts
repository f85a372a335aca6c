import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRecipientLinks } from '../api/index.js';
import { loadConfig } from '../config/index.js';
import { parseParticipantId } from '../core/index.js';
import type { StoredMessage } from '../store/index.js';
import type { MailTransport, NoticeLinks } from '../pipeline/index.js';
import { createRecipientChannels } from './recipient-channels.js';

const message: StoredMessage = {
  id: 'msg-1',
  ebmsMessageId: 'ebms-1@c2',
  role: 'recipient-ap',
  state: 'received',
  sender: parseParticipantId('0188:1'),
  recipient: parseParticipantId('0188:2'),
  subject: 'Invoice',
  parts: [{ partId: 'p1', contentType: 'application/xml', sha256: 'ab'.repeat(32), size: 10 }],
  submittedAt: new Date('2026-11-24T10:00:00Z'),
  updatedAt: new Date('2026-11-24T10:00:00Z'),
  attempts: 0,
};

describe('recipient channels: policy from config and the webhook (real HTTP on loopback)', () => {
  let server: Server;
  let base = '';
  const received: { path: string; body: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        const status = Number(req.url?.slice(1));
        res.writeHead(status, status === 302 ? { location: `${base}/204` } : {}).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const channelsFor = (notificationUrl?: string) =>
    createRecipientChannels(
      loadConfig({
        env: {},
        overrides: {
          policy: { acceptanceWindowSeconds: 60 },
          apiKeys: [
            {
              key: 'k'.repeat(16),
              participant: '0188:2',
              name: 'R',
              acceptance: 'required',
              consignment: 'notify',
              ...(notificationUrl ? { notificationUrl } : {}),
            },
            {
              key: 'l'.repeat(16),
              participant: '0188:3',
              name: 'S',
              acceptance: 'required',
              acceptanceWindowSeconds: 5,
            },
          ],
        },
      }),
      apiRecipientLinks(() => 'https://c3.example/'),
      pino({ level: 'silent' }),
      { timeoutMs: 2000 },
    );

  it("reads each recipient's policy, with its own window or the global one; others get the inbox", () => {
    const channels = channelsFor();
    expect(channels.policy(parseParticipantId('0188:2'))).toEqual({
      mode: 'notify',
      acceptance: { windowMs: 60_000 },
    });
    expect(channels.policy(parseParticipantId('0188:3'))).toEqual({
      mode: 'inbox',
      acceptance: { windowMs: 5_000 },
    });
    expect(channels.policy(parseParticipantId('0188:9'))).toEqual({ mode: 'inbox' });
  });

  it('POSTs the notice (links, deadline, no content) and counts 2xx as sent', async () => {
    const deadline = new Date('2026-12-01T00:00:00Z');
    const result = await channelsFor(`${base}/204`).notify(message.recipient, {
      kind: 'NotificationForAcceptance',
      message,
      deadline,
    });
    expect(result).toEqual({ status: 'sent', channel: `webhook ${base}/204` });
    expect(received.at(-1)!.body).toMatchObject({
      type: 'NotificationForAcceptance',
      messageId: 'msg-1',
      sender: '0188:1',
      pickupUrl: 'https://c3.example/api/v1/inbox/msg-1',
      acceptUrl: 'https://c3.example/api/v1/messages/msg-1/accept',
      rejectUrl: 'https://c3.example/api/v1/messages/msg-1/reject',
      deadline: deadline.toISOString(),
    });
  });

  it.each([
    [503, false],
    [429, false],
    [408, false],
    [404, true],
    [410, true],
  ])('HTTP %i is refused, permanent: %s', async (status, permanent) => {
    const result = await channelsFor(`${base}/${status}`).notify(message.recipient, {
      kind: 'ConsignmentNotification',
      message,
    });
    expect(result).toEqual({
      status: 'refused',
      permanent,
      reason: `webhook ${base}/${status} answered HTTP ${status}`,
    });
  });

  it('does not follow a redirect (final), and retries an unreachable webhook; no URL is a final refusal', async () => {
    const before = received.length;
    const redirected = await channelsFor(`${base}/302`).notify(message.recipient, {
      kind: 'ConsignmentNotification',
      message,
    });
    expect(redirected).toMatchObject({ status: 'refused', permanent: true });
    expect(received.slice(before).map((r) => r.path)).toEqual(['/302']);
    const closed = await channelsFor('http://127.0.0.1:1/hook').notify(message.recipient, {
      kind: 'ConsignmentNotification',
      message,
    });
    expect(closed).toMatchObject({ status: 'refused', permanent: false });
    expect(
      await channelsFor().notify(message.recipient, { kind: 'ConsignmentNotification', message }),
    ).toMatchObject({ status: 'refused', permanent: true });
  });
});

describe('recipient channels: the mail notice to a person carries the one-time pickup link (REQ4)', () => {
  // The REM mail itself is tested over real SMTP in test/integration/acceptance-events-suite.ts; here: which link.
  const sent: NoticeLinks[] = [];
  const mail = {
    deliveryAddress: () => 'someone@example.org',
    sendNotification: async (input: { links: NoticeLinks }) => {
      sent.push(input.links);
      return { status: 'accepted' as const, response: '250 ok' };
    },
  } as unknown as MailTransport;
  const channels = createRecipientChannels(
    loadConfig({
      env: {},
      overrides: {
        apiKeys: [{ key: 'k'.repeat(16), participant: '0188:2', name: 'System', consignment: 'notify' }],
        accounts: [
          {
            participant: '0188:4',
            name: 'Person',
            consignment: 'notify',
            credentials: [{ kind: 'totp', secretBase32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }],
          },
        ],
      },
    }),
    apiRecipientLinks(() => 'https://c3.example/'),
    pino({ level: 'silent' }),
    {
      mail,
      personalPickupLink: (id, recipient) => `https://c3.example/pickup/token-for-${id}-${recipient.value}`,
    },
  );
  const evidence = {
    id: 'ev-1',
    event: 'RelayAcceptance' as const,
    eventTime: new Date(),
    xml: '<Evidence/>',
  };

  it('a person (TOTP/password credential) gets the signed link; a system keeps the API URL', async () => {
    await channels.notify(parseParticipantId('0188:4'), {
      kind: 'ConsignmentNotification',
      message: { ...message, recipient: parseParticipantId('0188:4') },
      evidence,
    });
    await channels.notify(parseParticipantId('0188:2'), {
      kind: 'ConsignmentNotification',
      message,
      evidence,
    });
    expect(sent.map((l) => l.pickup)).toEqual([
      'https://c3.example/pickup/token-for-msg-1-4',
      'https://c3.example/api/v1/inbox/msg-1',
    ]);
  });
});
