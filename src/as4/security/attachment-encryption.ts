import { createCipheriv, createDecipheriv, randomBytes, type X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { QerdsError } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { locateSoapParts } from '../message/envelope-parse.js';
import { encryptedKeyXml, unwrapEncryptedKey, xml } from './key-wrap.js';
import { contentIdFromCid } from '../message/multipart.js';
import { ALG, NS, WSS } from '../model/namespaces.js';
import { securityHeaders } from './ws-security-verify.js';
import { cidUrl } from './ws-security-sign.js';
import {
  readAll,
  spoolDirectory,
  spoolToFile,
  streamedAttachment,
  type SpoolDir,
} from '../message/streamed-body.js';
import type { Attachment, DecryptedAttachments, StreamedBody } from '../model/types.js';
import { allElements, idOf, parseXml } from '../message/xml-util.js';
import { mustUnderstandValue } from '../message/envelope-build.js';
import { childElements } from '../../xml/index.js';

const GCM_IV_BYTES = 12;
const MAX_ENCRYPTED_KEYS = 4;
const GCM_TAG_BYTES = 16;
const CONTENT_ALGORITHMS: ReadonlyMap<string, { cipher: 'aes-128-gcm' | 'aes-256-gcm'; keyBytes: number }> =
  new Map([
    [ALG.aes128Gcm, { cipher: 'aes-128-gcm', keyBytes: 16 }],
    [ALG.aes256Gcm, { cipher: 'aes-256-gcm', keyBytes: 32 }],
  ]);

const failed = (why: string): never => {
  throw new QerdsError('AS4_EBMS_0102', why);
};

/**
 * Encrypt every attachment for `recipient` (WS-Security SwA profile 1.1.1 §5.5, eDelivery AS4): one random
 * AES-128-GCM content key; per attachment an `xenc:EncryptedData` (Type Attachment-Content-Only, MimeType
 * = the original type, CipherReference `cid:` with the Attachment-Ciphertext-Transform) whose MIME part
 * becomes IV ‖ ciphertext ‖ tag as `application/octet-stream`; one `xenc:EncryptedKey` (RSA-OAEP for an
 * RSA certificate, X25519 agreement for an X25519 one) listing them. Sign first (sign-then-encrypt: the
 * signature covers the plaintext). Returns the elements as text for wsse:Security (which declares wsse), to go
 * before ds:Signature so that a receiver processing the header in order decrypts first, and the attachments to
 * send. New Ids avoid `taken` (the Ids of the envelope).
 */
export function encryptionXml(
  attachments: readonly Attachment[],
  recipient: X509Certificate,
  taken: ReadonlySet<string>,
): { xml: string; attachments: Attachment[] } {
  if (attachments.length === 0) return { xml: '', attachments: [] };
  const cek = randomBytes(16);
  const used = new Set(taken);
  const newId = (prefix: string) => {
    let id: string;
    do id = `${prefix}-${randomBytes(8).toString('hex')}`;
    while (used.has(id));
    used.add(id);
    return id;
  };
  const ekId = newId('EK');
  const dataIds: string[] = [];
  let encryptedData = '';
  const out = attachments.map((a) => {
    const id = newId('ED');
    dataIds.push(id);
    encryptedData += xml(
      'xenc:EncryptedData',
      { 'xmlns:xenc': NS.xenc, Id: id, MimeType: a.contentType, Type: WSS.swaContentOnly },
      xml('xenc:EncryptionMethod', { Algorithm: ALG.aes128Gcm }) +
        xml(
          'ds:KeyInfo',
          { 'xmlns:ds': NS.ds },
          xml(
            'wsse:SecurityTokenReference',
            { 'xmlns:wsse11': NS.wsse11, 'wsse11:TokenType': WSS.encryptedKeyTokenType },
            xml('wsse:Reference', { URI: `#${ekId}` }),
          ),
        ) +
        xml(
          'xenc:CipherData',
          {},
          xml(
            'xenc:CipherReference',
            { URI: cidUrl(a.contentId) },
            xml(
              'xenc:Transforms',
              {},
              xml('ds:Transform', { 'xmlns:ds': NS.ds, Algorithm: WSS.swaCiphertextTransform }),
            ),
          ),
        ),
    );
    const iv = randomBytes(GCM_IV_BYTES);
    if (a.stream)
      return streamedAttachment(a.contentId, 'application/octet-stream', encryptingBody(a.stream, cek, iv));
    const c = createCipheriv('aes-128-gcm', cek, iv);
    const body = Buffer.concat([iv, c.update(a.body), c.final(), c.getAuthTag()]);
    return { contentId: a.contentId, contentType: 'application/octet-stream', body };
  });
  return { xml: encryptedKeyXml(cek, recipient, ekId, dataIds) + encryptedData, attachments: out };
}

/**
 * encryptionXml for an envelope given as a DOM (tests encrypt envelopes they built or changed so; what we send
 * is built as text by packUserMessage): the elements go into its wsse:Security header (created when there is
 * none) after the BinarySecurityTokens, before the Signature.
 */
export function encryptAttachments(
  doc: Document,
  attachments: readonly Attachment[],
  recipient: X509Certificate,
): Attachment[] {
  if (attachments.length === 0) return [];
  const parts = locateSoapParts(doc);
  const taken = new Set(
    allElements(doc)
      .map((e) => idOf(e))
      .filter((id): id is string => !!id),
  );
  const encrypted = encryptionXml(attachments, recipient, taken);
  const env = parts.envelope;
  const prefix = env.prefix ?? 'env';
  const wrapper = parseXml(
    `<${prefix}:Envelope xmlns:${prefix}="${env.namespaceURI ?? ''}">` +
      `<wsse:Security xmlns:wsse="${NS.wsse}" ${prefix}:mustUnderstand="${mustUnderstandValue(parts.soapVersion)}">` +
      `${encrypted.xml}</wsse:Security></${prefix}:Envelope>`,
  );
  const parsedSecurity = wrapper.documentElement!.firstChild as Element;
  let security = securityHeaders(parts)[0];
  if (!security) {
    security = doc.importNode(parsedSecurity, false) as Element;
    parts.header.insertBefore(security, parts.header.firstChild);
  }
  let before: Node | null = security.firstChild;
  while (before && (before.nodeType !== 1 || (before as Element).localName === 'BinarySecurityToken'))
    before = before.nextSibling;
  for (const node of childElements(parsedSecurity)) security.insertBefore(doc.importNode(node, true), before);
  return encrypted.attachments;
}

/**
 * IV ‖ AES-128-GCM ciphertext ‖ tag of a streamed plaintext, produced in one pass while it is read (GCM
 * ciphertext is as long as the plaintext, so the size is known before). Every `open` yields the same octets.
 */
function encryptingBody(plaintext: StreamedBody, cek: Buffer, iv: Buffer): StreamedBody {
  return {
    size: GCM_IV_BYTES + plaintext.size + GCM_TAG_BYTES,
    open: () =>
      Readable.from(
        (async function* () {
          yield iv;
          const c = createCipheriv('aes-128-gcm', cek, iv);
          for await (const chunk of plaintext.open()) yield c.update(chunk as Buffer);
          yield c.final();
          yield c.getAuthTag();
        })(),
        { objectMode: false },
      ),
  };
}

/** One attachment to decrypt, as the Security header describes it. */
interface DecryptionStep {
  readonly attachment: Attachment;
  readonly cek: Buffer;
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm';
  readonly mimeType: string;
}

interface DecryptionPlan {
  readonly steps: readonly DecryptionStep[];
  readonly keyProtection: readonly string[];
}

/**
 * Decrypt the attachments that the Security header (ours: ultimate receiver) says are encrypted, with one of
 * `keys` (RSA for eDelivery 1.15, X25519 for 2.0). Attachments without an EncryptedData stay as they are;
 * `encrypted` lists the Content-IDs that were decrypted so a P-Mode can require all of them. Call before
 * `verifyEnvelope` (the signature is over the plaintext). Any failure → QerdsError AS4_EBMS_0102.
 */
export function decryptAttachments(
  doc: Document,
  attachments: readonly Attachment[],
  keys: readonly SigningIdentity[],
): DecryptedAttachments {
  const plan = planDecryption(doc, attachments, keys);
  return decryptedBy(
    plan,
    attachments,
    plan.steps.map((step) => decryptInMemory(step, step.attachment.body)),
  );
}

/**
 * decryptAttachments for attachments that may be streamed: those are decrypted into files of `spoolDir`
 * (hashed on the way, for the signature check), and a file is handed out only after its GCM tag verified;
 * a failed one is removed (never unauthenticated plaintext).
 */
export async function decryptAttachmentsStreaming(
  doc: Document,
  attachments: readonly Attachment[],
  keys: readonly SigningIdentity[],
  spoolDir: SpoolDir,
): Promise<DecryptedAttachments> {
  const plan = planDecryption(doc, attachments, keys);
  const plaintexts: Attachment[] = [];
  for (const step of plan.steps) {
    const source = step.attachment.stream;
    plaintexts.push(
      source ? await decryptToFile(step, source, spoolDir) : decryptInMemory(step, step.attachment.body),
    );
  }
  return decryptedBy(plan, attachments, plaintexts);
}

/** `attachments` in their order, each decrypted one (`plaintexts`, in the order of the plan's steps) in its place. */
function decryptedBy(
  plan: DecryptionPlan,
  attachments: readonly Attachment[],
  plaintexts: readonly Attachment[],
): DecryptedAttachments {
  const out = new Map(attachments.map((a) => [a.contentId, a]));
  plan.steps.forEach((step, i) => out.set(step.attachment.contentId, plaintexts[i]!));
  return {
    attachments: attachments.map((a) => out.get(a.contentId)!),
    encrypted: plan.steps.map((s) => s.attachment.contentId),
    keyProtection: plan.keyProtection,
  };
}

function decryptInMemory(step: DecryptionStep, body: Buffer): Attachment {
  const id = step.attachment.contentId;
  if (body.length < GCM_IV_BYTES + GCM_TAG_BYTES) failed(`attachment ${id} is too short for AES-GCM`);
  try {
    const d = createDecipheriv(step.cipher, step.cek, body.subarray(0, GCM_IV_BYTES));
    d.setAuthTag(body.subarray(body.length - GCM_TAG_BYTES));
    const plain = Buffer.concat([
      d.update(body.subarray(GCM_IV_BYTES, body.length - GCM_TAG_BYTES)),
      d.final(),
    ]);
    return { contentId: id, contentType: step.mimeType, body: plain };
  } catch {
    return failed(`attachment ${id} cannot be decrypted`);
  }
}

async function decryptToFile(
  step: DecryptionStep,
  source: StreamedBody,
  spoolDir: SpoolDir,
): Promise<Attachment> {
  const id = step.attachment.contentId;
  if (source.size < GCM_IV_BYTES + GCM_TAG_BYTES) failed(`attachment ${id} is too short for AES-GCM`);
  const iv = await readRange(source, 0, GCM_IV_BYTES);
  const tag = await readRange(source, source.size - GCM_TAG_BYTES, GCM_TAG_BYTES);
  const d = createDecipheriv(step.cipher, step.cek, iv);
  d.setAuthTag(tag);
  const ciphertext = source.path
    ? createReadStream(source.path, {
        start: GCM_IV_BYTES,
        end: source.size - GCM_TAG_BYTES - 1,
        highWaterMark: 1024 * 1024,
      })
    : failed(`attachment ${id} is not in a file`);
  try {
    // d.final() (at the end of the pipeline) throws when the tag does not verify; spoolToFile then removes the file.
    const plain = await spoolToFile(ciphertext, await spoolDirectory(spoolDir), [d]);
    return streamedAttachment(id, step.mimeType, plain);
  } catch {
    return failed(`attachment ${id} cannot be decrypted`);
  }
}

async function readRange(source: StreamedBody, start: number, length: number): Promise<Buffer> {
  if (!source.path) return failed('encrypted attachment is not in a file');
  return readAll(createReadStream(source.path, { start, end: start + length - 1 }));
}

/** What the Security header asks to decrypt, with which key and algorithm; every inconsistency is AS4_EBMS_0102. */
function planDecryption(
  doc: Document,
  attachments: readonly Attachment[],
  keys: readonly SigningIdentity[],
): DecryptionPlan {
  const security = securityHeaders(locateSoapParts(doc))[0];
  if (!security) return { steps: [], keyProtection: [] };
  const eks = childElements(security, NS.xenc, 'EncryptedKey');
  const eds = childElements(security, NS.xenc, 'EncryptedData');
  if (eks.length === 0 && eds.length === 0) return { steps: [], keyProtection: [] };
  // Each EncryptedKey costs a private-key operation: a header stuffed with them is a cheap CPU attack.
  if (eks.length > MAX_ENCRYPTED_KEYS) failed(`more than ${MAX_ENCRYPTED_KEYS} EncryptedKey elements`);
  const byId = new Map<string, Element[]>();
  for (const e of allElements(doc)) {
    const id = idOf(e);
    if (!id) continue;
    // Appended in place: a copy per element made an envelope of 10 000 elements sharing one id cost 50 million copies.
    const list = byId.get(id);
    if (list) list.push(e);
    else byId.set(id, [e]);
  }
  const keyFor = new Map<Element, Buffer>();
  for (const ek of eks) {
    const cek = unwrapEncryptedKey(ek, security, keys);
    const list = childElements(ek, NS.xenc, 'ReferenceList')[0];
    for (const ref of list ? childElements(list, NS.xenc, 'DataReference') : []) {
      const uri = ref.getAttribute('URI') ?? '';
      const targets = uri.startsWith('#') ? (byId.get(uri.slice(1)) ?? []) : [];
      // The EncryptedData must be one element of this Security header: one found elsewhere (or twice) could
      // make us decrypt something else than what the header lists.
      if (targets.length !== 1 || !eds.includes(targets[0]!))
        failed(`DataReference ${uri} does not name one EncryptedData of the Security header`);
      keyFor.set(targets[0]!, cek);
    }
    const ekId = idOf(ek);
    for (const ed of eds) {
      if (keyFor.has(ed)) continue;
      const ref = childElements(
        childElements(childElements(ed, NS.ds, 'KeyInfo')[0] ?? ed, NS.wsse, 'SecurityTokenReference')[0] ??
          ed,
        NS.wsse,
        'Reference',
      )[0];
      if (ekId && ref?.getAttribute('URI') === `#${ekId}`) keyFor.set(ed, cek);
    }
  }
  const byCid = new Map(attachments.map((a) => [a.contentId, a]));
  const steps: DecryptionStep[] = [];
  for (const ed of eds) {
    const cek =
      keyFor.get(ed) ?? failed(`EncryptedData ${ed.getAttribute('Id') ?? ''} has no key we can decrypt`);
    const type = ed.getAttribute('Type');
    if (type !== WSS.swaContentOnly)
      failed(`EncryptedData Type ${type ?? '(none)'} is not supported (Attachment-Content-Only)`);
    const algorithm = CONTENT_ALGORITHMS.get(
      childElements(ed, NS.xenc, 'EncryptionMethod')[0]?.getAttribute('Algorithm') ?? '',
    );
    if (!algorithm || algorithm.keyBytes !== cek.length)
      return failed('content encryption must be AES-GCM with the wrapped key length');
    const cipherData = childElements(ed, NS.xenc, 'CipherData');
    const cref = cipherData.length === 1 ? childElements(cipherData[0]!, NS.xenc, 'CipherReference') : [];
    if (cref.length !== 1) return failed('EncryptedData needs one CipherReference');
    const cid = contentIdFromCid(cref[0]!.getAttribute('URI') ?? '');
    const transforms = childElements(
      childElements(cref[0]!, NS.xenc, 'Transforms')[0] ?? cref[0]!,
      NS.ds,
      'Transform',
    );
    if (transforms.length !== 1 || transforms[0]!.getAttribute('Algorithm') !== WSS.swaCiphertextTransform)
      failed('CipherReference needs the Attachment-Ciphertext-Transform');
    const att = cid === undefined ? undefined : byCid.get(cid);
    if (!att || steps.some((s) => s.attachment === att))
      return failed(
        `CipherReference ${cref[0]!.getAttribute('URI') ?? ''} names no (or an already decrypted) attachment`,
      );
    steps.push({
      attachment: att,
      cek,
      cipher: algorithm.cipher,
      mimeType: ed.getAttribute('MimeType') || 'application/octet-stream',
    });
  }
  const keyProtection = eks.map(
    (ek) => childElements(ek, NS.xenc, 'EncryptionMethod')[0]?.getAttribute('Algorithm') ?? '',
  );
  return { steps, keyProtection };
}
