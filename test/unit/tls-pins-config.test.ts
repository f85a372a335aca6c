import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { peerTlsPins } from '../../src/access-point/as4-tls.js';
import { pinMismatch, spkiPin } from '../../src/pki/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createStaticDirectory } from '../../src/directory/index.js';
import { parseParticipantId } from '../../src/core/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/** Directory TLS pins from configuration (`apTlsPins`, `apTlsCertificate`) down to the pin check. */
const pki = sharedTestPki();
const c3Tls = new X509Certificate(readFileSync(pki.ap('c3').tlsCert));
const c2Tls = new X509Certificate(readFileSync(pki.ap('c2').tlsCert));
const peer = (extra: Record<string, unknown>) =>
  loadConfig({
    env: {},
    overrides: {
      directory: {
        participants: [{ id: '0188:1', name: 'Peer', endpoint: 'https://peer.example/as4', ...extra }],
      },
    },
  });

describe('TLS pins in the directory configuration', () => {
  it('an SPKI pin from apTlsPins accepts the pinned key and refuses another, naming what it saw', async () => {
    const config = peer({ apTlsPins: [spkiPin(c3Tls)] });
    const entry = await createStaticDirectory(config.directory.participants).lookup(
      parseParticipantId('0188:1'),
    );
    const pins = peerTlsPins(entry);
    expect(pinMismatch(c3Tls, pins)).toBeUndefined();
    expect(pinMismatch(c2Tls, pins)).toMatch(
      new RegExp(`\\(${spkiPin(c2Tls).replace(/[+/]/g, '\\$&')}\\) matches none of the 1 pin`),
    );
  });

  it('apTlsCertificate pins the whole certificate; no pins at all means no pin check', async () => {
    const config = peer({ apTlsCertificate: pki.ap('c3').tlsCert });
    const entry = await createStaticDirectory(config.directory.participants).lookup(
      parseParticipantId('0188:1'),
    );
    expect(pinMismatch(c3Tls, peerTlsPins(entry))).toBeUndefined();
    expect(pinMismatch(c2Tls, peerTlsPins(entry))).toBeDefined();
    const none = await createStaticDirectory(peer({}).directory.participants).lookup(
      parseParticipantId('0188:1'),
    );
    expect(peerTlsPins(none)).toBeUndefined();
  });

  it('a malformed pin or requireClientCert without clientCa stops the configuration with the key named', () => {
    expect(() => peer({ apTlsPins: ['sha256/not-base64'] })).toThrow(/apTlsPins/);
    expect(() =>
      loadConfig({
        env: {},
        overrides: { http: { tls: { cert: 'a.pem', key: 'k.pem', requireClientCert: true } } },
      }),
    ).toThrow(/requireClientCert needs clientCa/);
  });
});
