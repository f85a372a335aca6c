import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  formatParticipantId,
  QerdsError,
  type Clock,
  type IdGenerator,
  type PayloadPart,
  type TsaClient,
} from '../core/index.js';
import type { QerdsConfig } from '../config/index.js';
import { isEnvelopedCms, isSignedCms, streamToBuffer, type OnBehalfSealer } from '../pipeline/index.js';
import { openPkcs11Signer, parsePemCertificates, type Pkcs11Signer } from '../pki/index.js';
import { sealEnvelopingCms, sealXml } from '../seal/index.js';
import type { BlobStore } from '../store/types.js';
import { parseXmlStrict, XML_NS } from '../xml/index.js';

/** Media type of content C2 sealed with an enveloping CAdES (RFC 8551 §3.2: S/MIME type signed-data). */
export const SIGNED_DATA_CONTENT_TYPE = 'application/pkcs7-mime; smime-type=signed-data';

/**
 * Largest part sealed on a sender's behalf, in bytes: a seal covers the whole content, which is read into
 * memory (XAdES needs the document; the enveloping CAdES carries the content). Larger parts are refused.
 */
export const REMOTE_SEAL_MAX_BYTES = 20 * 1024 * 1024;

/**
 * Open the PKCS#11 signer of each account with a `remoteSeal`, logging in with the PIN from the named
 * environment variable. Any failure (PIN variable unset, wrong PIN, no such token or key, certificate not
 * the key's) is thrown: the AP must not start with a sender's seal it cannot make.
 */
export async function openRemoteSealSigners(
  accounts: QerdsConfig['accounts'],
  env: NodeJS.ProcessEnv,
): Promise<Map<string, Pkcs11Signer>> {
  const signers = new Map<string, Pkcs11Signer>();
  try {
    for (const account of accounts) {
      const seal = account.remoteSeal;
      if (!seal) continue;
      const where = `accounts[${account.participant}].remoteSeal`;
      const pin = env[seal.pkcs11.pinEnv];
      if (pin === undefined || pin === '')
        throw new QerdsError(
          'CONFIG_INVALID',
          `${where}: environment variable ${seal.pkcs11.pinEnv} (the token PIN) is not set`,
        );
      const [certificate, ...chain] = parsePemCertificates(readFileSync(seal.certificate, 'utf8'));
      if (!certificate)
        throw new QerdsError('CONFIG_INVALID', `${where}: no certificate in ${seal.certificate}`);
      const signer = await openPkcs11Signer({ ...seal.pkcs11, pin }, certificate, chain).catch(
        (err: unknown) => {
          if (err instanceof QerdsError)
            throw new QerdsError(err.code, `${where}: ${err.message}`, { cause: err });
          throw err;
        },
      );
      signers.set(account.participant, signer);
    }
  } catch (err) {
    for (const s of signers.values()) s.close();
    throw err;
  }
  return signers;
}

/**
 * The on-behalf sealer of the pipeline over those signers: XML content gets an enveloped XAdES B-T, anything
 * else an enveloping CAdES B-T, timestamped by the AP's TSA. Content already signed (an XMLDSig signature,
 * a CMS SignedData) or encrypted (CMS EnvelopedData) by the sender is left as it is.
 */
export function createOnBehalfSealer(options: {
  readonly signers: ReadonlyMap<string, Pkcs11Signer>;
  readonly blobs: BlobStore;
  readonly tsa: TsaClient;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}): OnBehalfSealer {
  const sealPart = async (signer: Pkcs11Signer, part: PayloadPart): Promise<PayloadPart> => {
    if (part.plaintextSha256 !== undefined || part.sealedOnBehalf !== undefined) return part;
    if (part.size > REMOTE_SEAL_MAX_BYTES) {
      throw new QerdsError(
        'PAYLOAD_TOO_LARGE',
        `part ${part.partId} is larger than ${REMOTE_SEAL_MAX_BYTES} bytes, the limit for sealing on the sender's behalf`,
      );
    }
    const content = await streamToBuffer(options.blobs.get(part.sha256));
    if (isSignedCms(content) || isEnvelopedCms(content)) return part;
    const record = (format: 'XAdES' | 'CAdES') => ({
      format,
      submittedSha256: part.sha256,
      certificateSha256: createHash('sha256').update(signer.certificate.raw).digest('hex'),
    });
    const xml = /xml/i.test(part.contentType) ? readableXml(content) : undefined;
    if (xml !== undefined) {
      if (xml.getElementsByTagNameNS(XML_NS.ds, 'Signature').length > 0) return part;
      const sealed = await sealXml(content.toString('utf8'), {
        identity: signer,
        tsa: options.tsa,
        clock: options.clock,
        idGenerator: options.ids,
      });
      const { sha256, size } = await options.blobs.put(Buffer.from(sealed, 'utf8'));
      return { ...part, sha256, size, sealedOnBehalf: record('XAdES') };
    }
    const sealed = await sealEnvelopingCms(content, {
      identity: signer,
      tsa: options.tsa,
      clock: options.clock,
    });
    const { sha256, size } = await options.blobs.put(sealed);
    return {
      ...part,
      contentType: SIGNED_DATA_CONTENT_TYPE,
      ...(part.filename === undefined ? {} : { filename: `${part.filename}.p7m` }),
      sha256,
      size,
      sealedOnBehalf: record('CAdES'),
    };
  };
  return {
    async seal(sender, parts) {
      const signer = options.signers.get(formatParticipantId(sender));
      if (!signer) return undefined;
      const out: PayloadPart[] = [];
      for (const part of parts) out.push(await sealPart(signer, part));
      return out;
    },
  };
}

/** The document when `content` is well-formed XML (parsed strictly: no DOCTYPE), else undefined. */
function readableXml(content: Buffer): Document | undefined {
  try {
    return parseXmlStrict(content.toString('utf8'), 'SEAL_MALFORMED');
  } catch {
    return undefined;
  }
}
