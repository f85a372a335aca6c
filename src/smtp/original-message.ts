import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { QerdsError } from '../core/index.js';

/** One part of registered content as the original message carries it (payload octets in memory). */
export interface OriginalPart {
  readonly partId: string;
  readonly contentType: string;
  readonly filename?: string;
  /** Content type of the plaintext when `body` is C2's end-to-end ciphertext. */
  readonly originalContentType?: string;
  readonly body: Buffer;
}

/** Header of a part that carries `OriginalPart.originalContentType` (end-to-end ciphertext; the AS4 `OriginalMimeType`). */
const ORIGINAL_CONTENT_TYPE_HEADER = 'X-Qerds-Original-Content-Type';

/**
 * The `message/rfc822` original of a REM Dispatch made of stored parts: a plain message whose attachments are
 * the parts, each named by its part id (`Content-ID: <partId>`), file name and content type.
 * `exact`: every part base64 (RFC 2045 §6.8), so that the receiver gets each part's octets back unchanged
 * (the SMTP relay binding between APs, where C3 stores what it receives); else nodemailer picks the encoding
 * (mail for people's clients).
 */
export function composeOriginal(input: {
  readonly from: { readonly name: string; readonly address: string };
  readonly subject: string;
  readonly date: Date;
  readonly parts: readonly OriginalPart[];
  readonly exact?: boolean;
}): Promise<Buffer> {
  const composer = new MailComposer({
    from: input.from,
    subject: input.subject,
    date: input.date,
    text: 'Registered message: the content is attached. / 登録メッセージ：内容は添付のとおりです。',
    attachments: input.parts.map((p) => ({
      filename: p.filename ?? p.partId,
      contentType: p.contentType,
      content: p.body,
      cid: p.partId,
      ...(input.exact ? { contentTransferEncoding: 'base64' as const } : {}),
      ...(p.originalContentType
        ? { headers: { [ORIGINAL_CONTENT_TYPE_HEADER]: p.originalContentType } }
        : {}),
    })),
  });
  return composer.compile().build();
}

/**
 * The parts of an original that `composeOriginal` made, and its subject: what C3 stores for a dispatch that came
 * over the SMTP relay binding. Parts without a Content-ID are not parts of the registered content (the
 * introductory text). A malformed original is SMTP_MESSAGE_MALFORMED.
 */
export async function readOriginalParts(raw: Buffer): Promise<{ subject?: string; parts: OriginalPart[] }> {
  let parsed;
  try {
    parsed = await simpleParser(raw, {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      keepCidLinks: true,
    });
  } catch (err) {
    throw new QerdsError(
      'SMTP_MESSAGE_MALFORMED',
      `the original message cannot be parsed: ${(err as Error).message}`,
    );
  }
  const parts = parsed.attachments
    .filter((a) => a.cid)
    .map((a) => {
      const originalContentType = a.headers.get(ORIGINAL_CONTENT_TYPE_HEADER.toLowerCase());
      return {
        partId: a.cid!,
        contentType: a.contentType,
        ...(a.filename ? { filename: a.filename } : {}),
        ...(typeof originalContentType === 'string' ? { originalContentType } : {}),
        body: a.content,
      };
    });
  if (parts.length === 0)
    throw new QerdsError('SMTP_MESSAGE_MALFORMED', 'the original message carries no part');
  return { ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}), parts };
}
