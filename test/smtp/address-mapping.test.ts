import { describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/index.js';
import {
  createAddressMapping,
  hashPassword,
  isPasswordHash,
  toSmtpReply,
  verifyPassword,
} from '../../src/smtp/index.js';

describe('address ↔ participant mapping', () => {
  const mapping = createAddressMapping({
    domains: ['ap.example', 'AP2.example'],
    explicit: [
      { email: 'Keiri@Sample-Trading.example', participant: { scheme: '0188', value: '1234567890123' } },
    ],
  });

  it('reads <scheme>-<value>@<our domain> as <scheme>:<value>, the value keeping its case', () => {
    expect(mapping.toParticipant('0188-9876543210987@ap.example')).toEqual({
      scheme: '0188',
      value: '9876543210987',
    });
    expect(mapping.toParticipant('9930-DE-123456789@AP2.EXAMPLE')).toEqual({
      scheme: '9930',
      value: 'DE-123456789',
    });
  });

  it('names nobody for foreign domains, missing scheme or value, and non-atext values', () => {
    for (const a of [
      '0188-9876543210987@other.example',
      'postmaster@ap.example',
      '-123@ap.example',
      '0188-@ap.example',
      '0188-a"b@ap.example',
      'no-at-sign',
    ]) {
      expect(mapping.toParticipant(a), a).toBeUndefined();
    }
  });

  it('explicit addresses win, match case-insensitively and are what toAddress gives back', () => {
    expect(mapping.toParticipant('keiri@sample-trading.EXAMPLE')).toEqual({
      scheme: '0188',
      value: '1234567890123',
    });
    expect(mapping.toAddress({ scheme: '0188', value: '1234567890123' })).toBe(
      'Keiri@Sample-Trading.example',
    );
    expect(mapping.toAddress({ scheme: '0188', value: '9876543210987' })).toBe(
      '0188-9876543210987@ap.example',
    );
    expect(mapping.toAddress({ scheme: 'email', value: 'a@b.example' })).toBeUndefined();
  });

  it('tells local domains from foreign ones', () => {
    expect(mapping.isLocalDomain('x@ap2.example')).toBe(true);
    expect(mapping.isLocalDomain('x@gmail.example')).toBe(false);
  });
});

describe('account password hashes', () => {
  it('verifies the right password only, and never a malformed hash or an unknown user', async () => {
    const hash = await hashPassword('s3cret', { N: 1024 });
    expect(isPasswordHash(hash)).toBe(true);
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('s3cret ', hash)).toBe(false);
    expect(await verifyPassword('s3cret', hash.replace(/.{4}$/, 'AAA='))).toBe(false);
    expect(await verifyPassword('s3cret', 'sha256$abc')).toBe(false);
    expect(await verifyPassword('s3cret', undefined)).toBe(false);
    expect(isPasswordHash('scrypt$3$8$1$AAAA$AAAA')).toBe(false); // N not a power of two ≥ 1024
  });
});

describe('error → SMTP reply', () => {
  it('maps catalogue and core codes, and hides unknown errors behind 451 4.3.0', () => {
    expect(toSmtpReply(new QerdsError('SMTP_RELAY_DENIED', 'relay access denied'))).toEqual({
      code: 550,
      enhanced: '5.7.1',
      text: 'relay access denied',
    });
    expect(toSmtpReply(new QerdsError('PAYLOAD_TOO_LARGE', 'too big'))).toMatchObject({
      code: 552,
      enhanced: '5.3.4',
    });
    expect(toSmtpReply(new QerdsError('SMTP_UNKNOWN_RECIPIENT', 'a\r\n250 fake'))).toMatchObject({
      text: 'a 250 fake',
    });
    expect(toSmtpReply(new Error('disk /x failed'))).toEqual({
      code: 451,
      enhanced: '4.3.0',
      text: 'local error in processing, try again later',
    });
  });
});
