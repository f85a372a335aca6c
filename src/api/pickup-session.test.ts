import { describe, expect, it } from 'vitest';
import { createPickupSessions } from './pickup-session.js';

const at = new Date('2026-12-07T09:00:00Z');
const identification = {
  method: 'urn:qerds-ap:authentication:pickup-link+totp',
  assuranceLevel: 'http://eidas.europa.eu/LoA/substantial',
  authenticatedAt: at,
  ial: 2 as const,
  aal: 2 as const,
  credentialId: 'pickup-link:abcdefgh',
};
const fields = { linkId: 'link-1', messageId: 'msg-1', recipient: '0188:2222222222222', identification };

describe('pickup sessions and form tokens', () => {
  it('a session reads back as issued, identification included, until it expires', () => {
    const sessions = createPickupSessions({
      secret: 'a-shared-secret-of-enough-length-0123',
      ttlSeconds: 600,
    });
    const value = sessions.issue(fields, at);
    const read = sessions.read(value, new Date(at.getTime() + 599_000));
    expect(read).toMatchObject({ ...fields, expiresAt: at.getTime() / 1000 + 600 });
    expect(read!.formNonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(sessions.read(value, new Date(at.getTime() + 600_000))).toBeUndefined();
  });

  it('an edited payload, another key, or garbage is no session', () => {
    const sessions = createPickupSessions({ secret: 'a-shared-secret-of-enough-length-0123' });
    const value = sessions.issue(fields, at);
    const [payload, mac] = value.split('.');
    const edited = Buffer.from(
      Buffer.from(payload!, 'base64url').toString('utf8').replace('msg-1', 'msg-2'),
    ).toString('base64url');
    expect(sessions.read(`${edited}.${mac}`, at)).toBeUndefined();
    expect(
      createPickupSessions({ secret: 'another-secret-of-enough-length-456789' }).read(value, at),
    ).toBeUndefined();
    for (const junk of ['', 'x', 'a.b.c', `${payload}.`]) expect(sessions.read(junk, at)).toBeUndefined();
    // Another process with the same secret accepts it (several API processes behind one name).
    expect(
      createPickupSessions({ secret: 'a-shared-secret-of-enough-length-0123' }).read(value, at)?.messageId,
    ).toBe('msg-1');
  });

  it('a form token fits one nonce and one purpose only', () => {
    const sessions = createPickupSessions();
    const nonce = sessions.newNonce();
    const token = sessions.formToken(nonce, 'sign-in:link-1');
    expect(sessions.checkFormToken(nonce, 'sign-in:link-1', token)).toBe(true);
    expect(sessions.checkFormToken(nonce, 'sign-in:link-2', token)).toBe(false);
    expect(sessions.checkFormToken(sessions.newNonce(), 'sign-in:link-1', token)).toBe(false);
    expect(sessions.checkFormToken(undefined, 'sign-in:link-1', token)).toBe(false);
    expect(sessions.checkFormToken(nonce, 'sign-in:link-1', undefined)).toBe(false);
    expect(sessions.checkFormToken(nonce, 'sign-in:link-1', ['array'])).toBe(false);
  });
});
