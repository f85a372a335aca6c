import busboy from 'busboy';
import { Router, type Request } from 'express';
import { isQerdsError, type Clock } from '../core/index.js';
import { plainSummary, verifyAny } from '../evidence/index.js';
import { createTrustStore, type TrustStore } from '../pki/index.js';
import type { TrustList } from '../trust-list/index.js';
import { pageLanguage, pageScript, pageStyle, sendPage } from './html-page.js';
import { renderFormPage, renderMessagePage, renderResultPage } from './verify-page-html.js';
import { createRateWindow } from '../smtp/index.js';
import { proofVerifiers } from './verify-routes.js';

export interface VerifyPageOptions {
  /** The trust anchors proofs are checked against. Without them nothing is trusted: at best "cannot be decided". */
  readonly trust?: TrustStore;
  readonly clock: Clock;
  /** Trusted list the page reads the qualified status of seals and TSAs from. @defaultValue none */
  readonly trustList?: TrustList;
  /** Largest file accepted (the proof, and each document). @defaultValue 10 MiB */
  readonly maxBytes?: number;
  /** Verifications one client address may ask for per minute. @defaultValue 30 */
  readonly maxPerMinute?: number;
}

/** Documents a person may add beside the proof. */
const MAX_DOCUMENTS = 4;

/**
 * The public verification page, for anyone handed a proof: `GET /verify` is a form (works without
 * JavaScript; a small script adds drag and drop and local times), `POST /verify` answers with the verdict
 * in plain words, in English or Japanese. No login. Uploads are read into memory, verified, and dropped:
 * nothing is stored and no body is logged (threat: a public page that keeps what strangers upload is a
 * data leak). Size-limited while the bytes arrive and rate-limited per client address (threat: a free
 * CPU-heavy verifier is a denial-of-service lever).
 */
export function verifyPageRouter(options: VerifyPageOptions): Router {
  const router = Router();
  const trust = options.trust ?? createTrustStore([]);
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const maxPerMinute = options.maxPerMinute ?? 30;
  const recent = createRateWindow({ windowMs: 60_000, now: () => options.clock.now().getTime() });

  router.get('/', (_req, res) => res.redirect(303, '/verify'));
  router.get('/verify/page.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=3600').send(pageStyle);
  });
  router.get('/verify/page.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'public, max-age=3600').send(pageScript);
  });
  router.get('/verify', (req, res) => {
    sendPage(res, 200, renderFormPage(pageLanguage(req), { maxBytes }));
  });
  router.post('/verify', async (req, res) => {
    const lang = pageLanguage(req);
    const client = req.socket.remoteAddress ?? 'unknown';
    if (recent.count(client) >= maxPerMinute) {
      res.set('Retry-After', '60');
      return sendPage(res, 429, renderMessagePage(lang, 'tooMany'));
    }
    recent.add(client);
    let upload: PageUpload;
    try {
      upload = await readPageUpload(req, maxBytes);
    } catch (error) {
      const tooLarge = error instanceof PageUploadError && error.reason === 'tooLarge';
      return sendPage(
        res,
        tooLarge ? 413 : 400,
        renderMessagePage(lang, tooLarge ? 'tooLarge' : 'badUpload', { maxBytes }),
      );
    }
    if (!upload.proof || upload.proof.length === 0)
      return sendPage(res, 400, renderMessagePage(lang, 'noFile'));
    try {
      const result = await verifyAny(upload.proof, {
        trust,
        at: options.clock.now(),
        verifiers: proofVerifiers,
        ...(upload.documents.length > 0 ? { content: upload.documents } : {}),
        ...(options.trustList ? { trustList: options.trustList } : {}),
      });
      const summary = plainSummary(result, { lang, documents: upload.documents });
      sendPage(
        res,
        200,
        renderResultPage(summary, {
          fileName: upload.proofName,
          technical: result.words,
          reportXml: result.xml,
          reportJson: result.json,
        }),
      );
    } catch (error) {
      if (isQerdsError(error) && (error.code === 'EVIDENCE_MALFORMED' || error.code === 'CONFIG_INVALID')) {
        return sendPage(res, 422, renderMessagePage(lang, 'unknownKind'));
      }
      // Details stay out of the page and the log line carries no upload (threat: leaking what was uploaded).
      req.log?.error(
        { code: isQerdsError(error) ? error.code : 'INTERNAL' },
        'verification page: verification failed',
      );
      sendPage(res, 500, renderMessagePage(lang, 'internal'));
    }
  });
  return router;
}

interface PageUpload {
  proof?: Buffer;
  proofName?: string;
  readonly documents: Buffer[];
}

class PageUploadError extends Error {
  constructor(readonly reason: 'tooLarge' | 'malformed') {
    super(reason);
  }
}

/**
 * The form's files, in memory: `file` (the proof) and up to {@link MAX_DOCUMENTS} `document`s, each at most
 * `maxBytes`, enforced while the bytes arrive. Every stream's error settles the promise (never an unhandled
 * 'error' event: a truncated form must not take the process down).
 */
function readPageUpload(req: Request, maxBytes: number): Promise<PageUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          files: 1 + MAX_DOCUMENTS,
          fields: 4,
          fieldSize: 64,
          fileSize: maxBytes,
          parts: 1 + MAX_DOCUMENTS + 4,
        },
      });
    } catch {
      return reject(new PageUploadError('malformed'));
    }
    const upload: PageUpload = { documents: [] };
    let settled = false;
    const fail = (error: PageUploadError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(new PageUploadError('tooLarge')));
      stream.on('error', () => fail(new PageUploadError('malformed')));
      stream.on('end', () => {
        if (settled) return;
        const bytes = Buffer.concat(chunks);
        if (name === 'file' && !upload.proof) {
          upload.proof = bytes;
          upload.proofName = info.filename;
        } else if (name === 'document' && bytes.length > 0) upload.documents.push(bytes);
      });
    });
    // Over the count limits is refused, never silently cut.
    parser.on('filesLimit', () => fail(new PageUploadError('tooLarge')));
    parser.on('partsLimit', () => fail(new PageUploadError('malformed')));
    parser.on('fieldsLimit', () => fail(new PageUploadError('malformed')));
    parser.on('error', () => fail(new PageUploadError('malformed')));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(upload);
    });
    req.on('error', () => fail(new PageUploadError('malformed')));
    req.pipe(parser);
  });
}
