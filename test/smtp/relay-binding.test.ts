import { describe, expect, it } from 'vitest';
import { refusalReason, smtpPeer } from '../../src/access-point/smtp-relay-transport.js';
import { describeSmtpRelayBinding } from './relay-binding-suite.js';

// The embedded default: SQLite and the in-process queue (PostgreSQL + BullMQ: two-access-points-postgres.test.ts).
describeSmtpRelayBinding({ label: '' });

describe('REM SMTP relay binding: reply codes and endpoints', () => {
  it('the RelayFailure reason follows the enhanced status code of a final refusal', () => {
    expect(refusalReason(550, '550 5.1.1 recipient <x@c3.example> unknown')).toBe('RB10');
    expect(refusalReason(554, '554 5.7.7 S/MIME signature: content changed')).toBe('RB04');
    expect(refusalReason(554, '554 5.7.1 the dispatch is not sealed by a known access point')).toBe('RB05');
    expect(refusalReason(550, '550 5.7.1 relay access denied')).toBe('RB06');
    expect(refusalReason(552, '552 5.3.4 message exceeds the maximum message size')).toBe('RB06');
    expect(refusalReason(554, '554 transaction failed')).toBe('RB02');
  });

  it('an smtp:// endpoint names host, port and mail domain; anything else is a final error', () => {
    expect(smtpPeer('smtp://relay.c3.example:2525?domain=c3.example')).toEqual({
      host: 'relay.c3.example',
      port: 2525,
      domain: 'c3.example',
    });
    expect(smtpPeer('smtp://[::1]')).toEqual({ host: '::1', port: 25, domain: '::1' });
    expect(() => smtpPeer('https://c3.example/as4')).toThrow(
      expect.objectContaining({ code: 'RELAY_SMTP_ENDPOINT', details: { retryable: false } }),
    );
  });
});
