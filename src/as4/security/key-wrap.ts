import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type X509Certificate,
} from 'node:crypto';
import { QerdsError } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { ALG, NS } from '../model/namespaces.js';
import { issuerSerialReferenceXml, matchRecipient } from './recipient-match.js';
import { canonicalAttributeValue, childElements, textOf } from '../../xml/index.js';

/** RFC 3394 default initial value of AES key wrap. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const KEK_BYTES = 16;

const failed = (why: string): never => {
  // One vague message for every unwrap failure: details of why RSA-OAEP or a key unwrap failed are an
  // oracle for an attacker who submits chosen ciphertexts.
  throw new QerdsError('AS4_EBMS_0102', `the EncryptedKey cannot be decrypted (${why})`);
};

/**
 * `<qname attrs>content</qname>` of the XML Encryption structures, `content` being XML text already (these are
 * not signed: the attributes stay in the order given, values escaped).
 */
export function xml(qname: string, attrs: Readonly<Record<string, string>>, content = ''): string {
  let out = `<${qname}`;
  for (const [k, v] of Object.entries(attrs)) out += ` ${k}="${canonicalAttributeValue(v)}"`;
  return `${out}>${content}</${qname}>`;
}

/**
 * `xenc:EncryptedKey` (as text, inside wsse:Security) carrying `cek` for `recipient`, listing the
 * EncryptedData `dataReferenceIds`:
 * - RSA certificate (eDelivery AS4 1.15): key transport RSA-OAEP (xmlenc11#rsa-oaep, MGF1-SHA256, SHA-256 digest).
 * - X25519 certificate (eDelivery AS4 2.0): `xenc:AgreementMethod` x25519 with an ephemeral originator key
 *   (dsig11:DEREncodedKeyValue, SubjectPublicKeyInfo), HKDF-SHA256 (random salt, 16-byte key) and
 *   kw-aes128 key wrap; `xenc:RecipientKeyInfo` names the recipient certificate (WSS4J needs it).
 */
export function encryptedKeyXml(
  cek: Buffer,
  recipient: X509Certificate,
  id: string,
  dataReferenceIds: readonly string[],
): string {
  const keyType = recipient.publicKey.asymmetricKeyType;
  let wrapped: Buffer;
  let head: string;
  if (keyType === 'rsa') {
    head =
      xml(
        'xenc:EncryptionMethod',
        { Algorithm: ALG.rsaOaep },
        xml('ds:DigestMethod', { 'xmlns:ds': NS.ds, Algorithm: ALG.sha256 }) +
          xml('xenc11:MGF', { 'xmlns:xenc11': NS.xenc11, Algorithm: ALG.mgf1Sha256 }),
      ) + xml('ds:KeyInfo', { 'xmlns:ds': NS.ds }, issuerSerialReferenceXml(recipient));
    // node's oaepHash sets both the OAEP digest and the MGF1 digest: SHA-256 for both, as declared above.
    wrapped = publicEncrypt(
      { key: recipient.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      cek,
    );
  } else if (keyType === 'x25519') {
    const salt = randomBytes(32);
    const ephemeral = generateKeyPairSync('x25519');
    const params = xml(
      'dsig-more:HKDFParams',
      { 'xmlns:dsig-more': NS.dsigMore },
      xml('dsig-more:PRF', { Algorithm: ALG.hmacSha256 }) +
        xml('dsig-more:Salt', {}, salt.toString('base64')) +
        xml('dsig-more:KeyLength', {}, String(KEK_BYTES)),
    );
    const agreement = xml(
      'xenc:AgreementMethod',
      { Algorithm: ALG.x25519 },
      xml('xenc11:KeyDerivationMethod', { 'xmlns:xenc11': NS.xenc11, Algorithm: ALG.hkdf }, params) +
        xml(
          'xenc:OriginatorKeyInfo',
          {},
          xml(
            'dsig11:DEREncodedKeyValue',
            { 'xmlns:dsig11': NS.dsig11 },
            ephemeral.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
          ),
        ) +
        xml('xenc:RecipientKeyInfo', {}, issuerSerialReferenceXml(recipient)),
    );
    head =
      xml('xenc:EncryptionMethod', { Algorithm: ALG.kwAes128 }) +
      xml('ds:KeyInfo', { 'xmlns:ds': NS.ds }, agreement);
    const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.publicKey });
    const kek = Buffer.from(hkdfSync('sha256', shared, salt, Buffer.alloc(0), KEK_BYTES));
    const c = createCipheriv('id-aes128-wrap', kek, KW_IV);
    wrapped = Buffer.concat([c.update(cek), c.final()]);
  } else {
    throw new QerdsError(
      'AS4_ENCRYPTION_KEY_UNSUPPORTED',
      `cannot encrypt for a ${keyType} certificate (RSA for eDelivery 1.15, X25519 for 2.0)`,
    );
  }
  return xml(
    'xenc:EncryptedKey',
    { 'xmlns:xenc': NS.xenc, Id: id },
    head +
      xml('xenc:CipherData', {}, xml('xenc:CipherValue', {}, wrapped.toString('base64'))) +
      xml(
        'xenc:ReferenceList',
        {},
        dataReferenceIds.map((ref) => xml('xenc:DataReference', { URI: `#${ref}` })).join(''),
      ),
  );
}

function cipherValueOf(ek: Element): Buffer {
  const cd = childElements(ek, NS.xenc, 'CipherData');
  const cv = cd.length === 1 ? childElements(cd[0]!, NS.xenc, 'CipherValue') : [];
  return cv.length === 1
    ? Buffer.from(textOf(cv[0]!).replace(/\s+/g, ''), 'base64')
    : failed('no CipherValue');
}

function oneChild(parent: Element, ns: string, name: string): Element {
  const found = childElements(parent, ns, name);
  return found.length === 1 ? found[0]! : failed(`expected one ${name}`);
}

/** The key encryption key of an X25519 + HKDF AgreementMethod, for our key `own`. */
function agreedKek(agreement: Element, own: SigningIdentity): Buffer {
  const kdm = oneChild(agreement, NS.xenc11, 'KeyDerivationMethod');
  if (kdm.getAttribute('Algorithm') !== ALG.hkdf)
    failed(`key derivation ${kdm.getAttribute('Algorithm') ?? ''} is not supported`);
  const params = oneChild(kdm, NS.dsigMore, 'HKDFParams');
  const prf = childElements(params, NS.dsigMore, 'PRF')[0]?.getAttribute('Algorithm') ?? ALG.hmacSha256;
  if (prf !== ALG.hmacSha256) failed(`HKDF PRF ${prf} is not supported`);
  const saltEl = childElements(params, NS.dsigMore, 'Salt')[0];
  const infoEl = childElements(params, NS.dsigMore, 'Info')[0];
  const lengthEl = childElements(params, NS.dsigMore, 'KeyLength')[0];
  if (lengthEl && textOf(lengthEl) !== String(KEK_BYTES))
    failed('HKDF KeyLength must be 16 bytes for kw-aes128');
  const originator = oneChild(agreement, NS.xenc, 'OriginatorKeyInfo');
  const der = oneChild(originator, NS.dsig11, 'DEREncodedKeyValue');
  let ephemeral;
  try {
    ephemeral = createPublicKey({ key: Buffer.from(textOf(der), 'base64'), format: 'der', type: 'spki' });
  } catch {
    return failed('originator key is not a public key');
  }
  if (ephemeral.asymmetricKeyType !== 'x25519') failed('originator key is not X25519');
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: ephemeral });
  // RFC 7748 §6.1: an all-zero shared secret means a small-order public key; refuse it.
  if (shared.every((b) => b === 0)) failed('degenerate X25519 shared secret');
  const salt = saltEl ? Buffer.from(textOf(saltEl), 'base64') : Buffer.alloc(0);
  const info = infoEl ? Buffer.from(textOf(infoEl), 'base64') : Buffer.alloc(0);
  return Buffer.from(hkdfSync('sha256', shared, salt, info, KEK_BYTES));
}

/**
 * Recover the content encryption key of an `xenc:EncryptedKey` with one of our keys (the one its KeyInfo,
 * or its AgreementMethod's RecipientKeyInfo, names). Any failure → QerdsError AS4_EBMS_0102.
 */
export function unwrapEncryptedKey(ek: Element, security: Element, keys: readonly SigningIdentity[]): Buffer {
  const method = oneChild(ek, NS.xenc, 'EncryptionMethod');
  const algorithm = method.getAttribute('Algorithm') ?? '';
  const keyInfo = childElements(ek, NS.ds, 'KeyInfo')[0];
  const wrapped = cipherValueOf(ek);
  if (algorithm === ALG.rsaOaep) {
    const digest = childElements(method, NS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm');
    const mgf = childElements(method, NS.xenc11, 'MGF')[0]?.getAttribute('Algorithm');
    // Only the eDelivery parameters: an attacker must not be able to choose SHA-1 digests or MGFs.
    if (digest !== ALG.sha256 || mgf !== ALG.mgf1Sha256) failed('RSA-OAEP must use SHA-256 and MGF1-SHA256');
    const rsaKeys = keys.filter((k) => k.privateKey.asymmetricKeyType === 'rsa');
    const cert = matchRecipient(
      keyInfo,
      security,
      rsaKeys.map((k) => k.certificate),
    );
    const own =
      rsaKeys.find((k) => k.certificate === cert) ?? failed('not encrypted for any of our certificates');
    try {
      return privateDecrypt(
        { key: own.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        wrapped,
      );
    } catch {
      return failed('RSA-OAEP');
    }
  }
  if (algorithm === ALG.kwAes128) {
    const agreement = keyInfo ? childElements(keyInfo, NS.xenc, 'AgreementMethod')[0] : undefined;
    if (!agreement || agreement.getAttribute('Algorithm') !== ALG.x25519)
      return failed('kw-aes128 needs an X25519 AgreementMethod');
    const xKeys = keys.filter((k) => k.privateKey.asymmetricKeyType === 'x25519');
    const cert = matchRecipient(
      childElements(agreement, NS.xenc, 'RecipientKeyInfo')[0],
      security,
      xKeys.map((k) => k.certificate),
    );
    const own =
      xKeys.find((k) => k.certificate === cert) ?? failed('not encrypted for any of our certificates');
    const kek = agreedKek(agreement, own);
    try {
      const d = createDecipheriv('id-aes128-wrap', kek, KW_IV);
      return Buffer.concat([d.update(wrapped), d.final()]);
    } catch {
      return failed('key unwrap');
    }
  }
  return failed(`key transport ${algorithm} is not supported`);
}
