import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningIdentity } from '../../src/pki/identity.js';
import { loadTrustStore } from '../../src/pki/trust-store.js';
import type { DevPkiLayout, SigningIdentity, TrustStore } from '../../src/pki/types.js';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createAs4Handler, type Attachment, type UserMessage } from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { closedBeforeAnswer } from '../../src/as4/http/client.js';
import {
  bodyXml,
  ebXml,
  envelopeXml,
  messageInfoXml,
  messagingXml,
} from '../../src/as4/message/envelope-build.js';
import { parseXml } from '../../src/as4/message/xml-util.js';
import type { As4HandlerOptions, ReceivedUserMessage } from '../../src/as4/model/types.js';

/** The trust store of the AS4 tests: the given CA file as the only anchor (the PKI module's path validation). */
export function anchorTrustStore(caCertFile: string): TrustStore {
  return loadTrustStore([caCertFile]);
}

export function sealIdentity(pki: DevPkiLayout, ap: 'c2' | 'c3'): SigningIdentity {
  const files = pki.ap(ap);
  return loadSigningIdentity(files.sealCert, files.sealKey);
}

export function sampleMessage(messageId: string, attachments: readonly Attachment[]): UserMessage {
  return {
    messageId,
    timestamp: new Date('2025-01-02T03:04:05.000Z'),
    from: {
      partyId: 'ap-c2',
      partyIdType: 'urn:oasis:names:tc:ebcore:partyid-type:unregistered',
      role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
    },
    to: {
      partyId: 'ap-c3',
      partyIdType: 'urn:oasis:names:tc:ebcore:partyid-type:unregistered',
      role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder',
    },
    collaboration: {
      agreementRef: 'urn:qerds:agreement:test',
      service: 'urn:qerds:service:erds',
      serviceType: 'urn:qerds:services',
      action: 'Deliver',
      conversationId: 'conv-1',
    },
    messageProperties: [
      { name: 'originalSender', value: 'urn:example:sender', type: 'urn:qerds:id' },
      { name: 'finalRecipient', value: 'urn:example:recipient', type: 'urn:qerds:id' },
    ],
    payloads: attachments.map((a) => ({
      href: `cid:${a.contentId}`,
      mimeType: a.contentType,
      properties: [],
    })),
  };
}

export interface As4TestServer {
  readonly endpoint: string;
  readonly received: ReceivedUserMessage[];
  /** Raw request bodies and Content-Types as they arrived on the wire. */
  readonly wire: { contentType: string; body: Buffer }[];
  close(): Promise<void>;
}

/** An express app on loopback with createAs4Handler at /as4; the raw request bodies are kept for inspection. */
export async function startAs4Server(
  options: Omit<As4HandlerOptions, 'onUserMessage'> & { onUserMessage?: As4HandlerOptions['onUserMessage'] },
): Promise<As4TestServer> {
  const received: ReceivedUserMessage[] = [];
  const wire: { contentType: string; body: Buffer }[] = [];
  const app = express();
  app.post(
    '/as4',
    express.raw({ type: () => true, limit: '200mb' }),
    (req, _res, next) => {
      wire.push({ contentType: req.headers['content-type'] ?? '', body: req.body as Buffer });
      next();
    },
    createAs4Handler({
      ...options,
      onUserMessage: options.onUserMessage ?? (async (r) => void received.push(r)),
    }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/as4`,
    received,
    wire,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** POST raw bytes; the answer parsed (not verified). */
export async function postAs4(
  endpoint: string,
  contentType: string,
  body: Buffer,
): Promise<{ status: number; xml: string; signal: ReturnType<typeof parseEnvelope> }> {
  const post = () =>
    fetch(endpoint, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
  // A pooled keep-alive socket the server closed just as it was reused fails before any answer (seen on a loaded
  // machine between two posts of one test): a new connection, as sendUserMessage does.
  const res = await post().catch((error: unknown) => {
    if (!closedBeforeAnswer(error)) throw error;
    return post();
  });
  const xml = await res.text();
  return { status: res.status, xml, signal: parseEnvelope(xml) };
}

/**
 * An eb:SignalMessage with eb:PullRequest for `mpc` (ebMS 3.0 Core §5.2.3.1), as another MSH's one-way/pull
 * would send it: the AP builds none, and answers one with EBMS:0008.
 */
export function buildPullRequestEnvelope(info: {
  messageId: string;
  timestamp: Date;
  mpc: string;
}): Document {
  const signal = ebXml('SignalMessage', messageInfoXml(info) + ebXml('PullRequest', '', { mpc: info.mpc }));
  return parseXml(envelopeXml('1.2', messagingXml('1.2', signal), bodyXml('1.2')));
}

export function errorCodeOf(signal: ReturnType<typeof parseEnvelope>): string | undefined {
  return signal.kind === 'error' ? signal.errors[0]?.errorCode : undefined;
}

/**
 * eDelivery AS4 2.0 keys made by the openssl CLI and issued by the CA of `pki`: an Ed25519 e-seal (signing)
 * and an X25519 encryption certificate (X25519 cannot sign a CSR, so its public key is forced into a
 * certificate requested with a throwaway key).
 */
export function opensslAs4v2Identities(
  pki: DevPkiLayout,
  cn: string,
): { signing: SigningIdentity; encryption: SigningIdentity; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-as4v2-'));
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ext = join(dir, 'ext.cnf');
  writeFileSync(
    ext,
    '[sig]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\n[enc]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\nsubjectKeyIdentifier=hash\n',
  );
  run(['genpkey', '-algorithm', 'ED25519', '-out', join(dir, 'sig.key.pem')]);
  run([
    'req',
    '-new',
    '-key',
    join(dir, 'sig.key.pem'),
    '-subj',
    `/C=JP/O=Test Dev/CN=${cn} Ed25519`,
    '-out',
    join(dir, 'sig.csr'),
  ]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'sig.csr'),
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-CAserial',
    join(dir, 'ca.srl'),
    '-days',
    '30',
    '-extfile',
    ext,
    '-extensions',
    'sig',
    '-out',
    join(dir, 'sig.crt.pem'),
  ]);
  run(['genpkey', '-algorithm', 'X25519', '-out', join(dir, 'enc.key.pem')]);
  run(['pkey', '-in', join(dir, 'enc.key.pem'), '-pubout', '-out', join(dir, 'enc.pub.pem')]);
  run([
    'x509',
    '-req',
    '-in',
    join(dir, 'sig.csr'),
    '-force_pubkey',
    join(dir, 'enc.pub.pem'),
    '-subj',
    `/C=JP/O=Test Dev/CN=${cn} X25519`,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAserial',
    join(dir, 'ca.srl'),
    '-days',
    '30',
    '-extfile',
    ext,
    '-extensions',
    'enc',
    '-out',
    join(dir, 'enc.crt.pem'),
  ]);
  return {
    signing: loadSigningIdentity(join(dir, 'sig.crt.pem'), join(dir, 'sig.key.pem')),
    encryption: loadSigningIdentity(join(dir, 'enc.crt.pem'), join(dir, 'enc.key.pem')),
    dir,
  };
}

/**
 * Signature wrapping (XSW): the signed eb:Messaging is moved into a wrapper header and a forged copy without
 * its wsu:Id (Action changed to 'Steal') takes its place, so the reference still resolves to signed bytes.
 */
export function wrapSignedMessaging(doc: Document): void {
  const header = doc.getElementsByTagNameNS(AS4_NS.soap12, 'Header')[0]!;
  const original = doc.getElementsByTagNameNS(AS4_NS.eb, 'Messaging')[0]!;
  const forged = original.cloneNode(true) as Element;
  forged.removeAttributeNS(AS4_NS.wsu, 'Id');
  forged.getElementsByTagNameNS(AS4_NS.eb, 'Action')[0]!.textContent = 'Steal';
  header.replaceChild(forged, original);
  const wrapper = doc.createElementNS('urn:attacker', 'w:Wrapper');
  wrapper.appendChild(original);
  header.appendChild(wrapper);
}
