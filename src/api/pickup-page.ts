import express, { Router, type Request, type Response } from 'express';
import { formatParticipantId, isQerdsError, xmlCharProblem } from '../core/index.js';
import { parseEvidenceXml } from '../evidence/index.js';
import { answerAcceptance, checkHandover, handOver, type PipelineContext } from '../pipeline/index.js';
import type { StoredMessage } from '../store/types.js';
import { cookieValue } from './browser-session.js';
import { pageLanguage, sendPage } from './html-page.js';
import type { PickupGate } from './pickup-gate.js';
import {
  renderPickupMessage,
  renderPickupNotice,
  renderSignIn,
  type PickupNotice,
} from './pickup-page-html.js';
import { createPickupSessions, type PickupSession } from './pickup-session.js';
import { handedOverWhole, sendPart } from './response-body.js';

export interface PickupPageOptions {
  /** The second-factor check shared with the JSON route. */
  readonly gate: PickupGate;
  /** Signs the session and form cookies; share it between the AP's API processes. @defaultValue a random key per process */
  readonly sessionSecret?: string;
  /** How long a person may stay on the message page after the second factor, in seconds. @defaultValue 1800 */
  readonly sessionTtlSeconds?: number;
}

const SESSION_COOKIE = 'qerds_pickup';
const FORM_COOKIE = 'qerds_pickup_form';
/** What the sign-in form's token is bound to, beside the browser's nonce: the link, so a token works for one link only. */
const signInPurpose = (linkId: string) => `sign-in:${linkId}`;
const SESSION_PURPOSE = 'session';

/**
 * The recipient's pickup page for people (REQ4), under `/pickup`: the notification's link `GET /pickup/<token>`
 * asks for the second factor the recipient enrolled (TOTP code or password) in a plain form (no script needed);
 * the right one uses the link up and opens a short session of this browser (an HMAC-signed `HttpOnly;
 * SameSite=Strict` cookie) on `/pickup/session`: the message (sender, subject, documents with size and SHA-256),
 * a download per document, accept/reject when the recipient's policy asks for acceptance first, and the
 * message's evidence. ContentHandover is recorded, as by the API, only once a document's last byte was written
 * (never on HEAD). Every form carries a CSRF token; an unknown, expired, used or foreign link gets one and the
 * same page (threat: probing which links or messages exist); the token never reaches a log (app.ts masks the
 * path, and nothing here logs it).
 */
export function pickupPageRouter(ctx: PipelineContext, options: PickupPageOptions): Router {
  const router = Router();
  const { gate } = options;
  const sessions = createPickupSessions({
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ttlSeconds: options.sessionTtlSeconds ?? 1800,
  });
  const sessionMinutes = Math.round(sessions.ttlSeconds / 60);
  const secure = (req: Request) => ((req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '');
  const cookie = (req: Request, name: string, value: string, maxAge: number) =>
    `${name}=${value}; Path=/pickup; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(req)}`;
  const sessionOf = (req: Request): PickupSession | undefined =>
    sessions.read(cookieValue(req.get('cookie'), SESSION_COOKIE), ctx.clock.now());
  // The language switch leads back to the same address; after a session's form post, to the session's page.
  const notice = (res: Response, req: Request, status: number, kind: PickupNotice) =>
    sendPage(
      res,
      status,
      renderPickupNotice(
        pageLanguage(req),
        kind,
        req.path.startsWith('/session') ? '/pickup/session' : `${req.baseUrl}${req.path}`,
      ),
    );
  const form = express.urlencoded({ extended: false, limit: '4kb' });

  /** The session's message, when it is still the recipient's own; undefined otherwise. */
  const messageOf = async (session: PickupSession): Promise<StoredMessage | undefined> => {
    const message = await ctx.store.getMessage(session.messageId);
    if (
      !message ||
      message.role !== 'recipient-ap' ||
      formatParticipantId(message.recipient) !== session.recipient
    )
      return undefined;
    return message;
  };

  const withSession =
    (
      handler: (req: Request, res: Response, session: PickupSession, message: StoredMessage) => Promise<void>,
    ) =>
    async (req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store');
      const session = sessionOf(req);
      if (!session) return notice(res, req, 401, 'sessionEnded');
      const message = await messageOf(session);
      if (!message) return notice(res, req, 404, 'linkInvalid');
      await handler(req, res, session, message);
    };

  const showMessage = async (
    req: Request,
    res: Response,
    session: PickupSession,
    message: StoredMessage,
    status = 200,
    problem?: 'answerFailed',
  ) => {
    const evidence = await ctx.store.listEvidence(message.id);
    const open = await checkHandover(ctx, message.id, message.recipient).then(
      () => true,
      () => false,
    );
    sendPage(
      res,
      status,
      renderPickupMessage(pageLanguage(req), {
        message,
        senderName: senderNameOf(evidence[0]?.xml),
        identification: session.identification,
        evidence,
        open,
        formToken: sessions.formToken(session.formNonce, SESSION_PURPOSE),
        ...(problem ? { problem } : {}),
      }),
    );
  };

  router.get(
    '/session',
    withSession((req, res, session, message) => showMessage(req, res, session, message)),
  );

  /** One document: the handover (REQ4), recorded once its last byte was written. */
  router.get(
    '/session/parts/:partId',
    withSession(async (req, res, session, message) => {
      const recipient = message.recipient;
      let stored: StoredMessage;
      try {
        stored = await checkHandover(ctx, message.id, recipient);
      } catch (error) {
        if (isQerdsError(error) && error.code === 'STATE_CONFLICT')
          return showMessage(req, res, session, message, 409);
        throw error;
      }
      const part = stored.parts.find((p) => p.partId === req.params.partId);
      if (!part || !(await ctx.store.blobs.has(part.sha256))) return notice(res, req, 404, 'noDocument');
      // The name first: attachment() would otherwise replace the part's own type with one guessed from the name.
      res.attachment(part.filename ?? part.partId);
      res
        .type(part.contentType)
        .set('Content-Length', String(part.size))
        .set('Digest', `sha-256=${Buffer.from(part.sha256, 'hex').toString('base64')}`);
      // Threat: a document the sender chose (HTML, SVG) rendered on this origin, where a script could read the
      // session's pages and post its forms; it is a download, never sniffed, and sandboxed if shown anyway.
      res
        .set('X-Content-Type-Options', 'nosniff')
        .set('Content-Security-Policy', "sandbox; default-src 'none'");
      // Express routes HEAD here too: headers only, so nothing was handed over and no evidence may claim it.
      if (req.method !== 'GET') return void res.end();
      const delivery = await sendPart(res, ctx.store.blobs.get(part.sha256), part.size);
      // ContentHandover is proof that the content went out: sealed only after the whole body was written.
      if (!handedOverWhole(req.log, delivery, stored.id, part.size)) return;
      try {
        await handOver(ctx, stored.id, recipient, session.identification);
      } catch (error) {
        req.log?.error({ err: error, messageId: stored.id }, 'content sent, ContentHandover not recorded');
      }
    }),
  );

  /** An evidence of the message, exactly as sealed (the bytes are what the seal covers). */
  router.get(
    '/session/evidence/:file',
    withSession(async (req, res, _session, message) => {
      const file = String(req.params.file);
      const evidence = file.endsWith('.xml')
        ? await ctx.store.getEvidence(file.slice(0, -'.xml'.length))
        : undefined;
      if (!evidence || evidence.messageId !== message.id) return notice(res, req, 404, 'noDocument');
      res
        .attachment(`${evidence.sequence}-${evidence.event}.xml`)
        .type('application/xml')
        .set('X-Content-Type-Options', 'nosniff')
        .send(evidence.xml);
    }),
  );

  const answer = (accept: boolean) =>
    withSession(async (req, res, session, message) => {
      const body = (req.body ?? {}) as { csrf?: unknown; reason?: unknown };
      if (!sessions.checkFormToken(session.formNonce, SESSION_PURPOSE, body.csrf))
        return notice(res, req, 403, 'formExpired');
      const reason =
        typeof body.reason === 'string' && body.reason.trim() !== ''
          ? body.reason.trim().slice(0, 1000)
          : undefined;
      // Threat: a character XML 1.0 cannot carry would make the sealed ConsignmentRejection unreadable.
      if (reason !== undefined && xmlCharProblem(reason))
        return showMessage(req, res, session, message, 400, 'answerFailed');
      try {
        await answerAcceptance(
          { ...ctx, log: req.log ?? ctx.log },
          message.id,
          message.recipient,
          session.identification,
          accept ? { accept: true } : { accept: false, reason },
        );
      } catch (error) {
        if (isQerdsError(error) && (error.code === 'STATE_CONFLICT' || error.code === 'NOT_FOUND'))
          return showMessage(req, res, session, message, 409, 'answerFailed');
        throw error;
      }
      res.redirect(303, `/pickup/session?lang=${pageLanguage(req)}`);
    });
  router.post('/session/accept', form, answer(true));
  router.post('/session/reject', form, answer(false));

  /** The notification's link: the second-factor form, or the session already opened with this link. */
  router.get('/:token', (req, res) => {
    res.set('Cache-Control', 'no-store');
    const link = gate.link(String(req.params.token));
    const enrolled = link.ok ? gate.enrolled(link) : undefined;
    if (!link.ok || !enrolled || (!enrolled.totp && !enrolled.password))
      return notice(res, req, 404, 'linkInvalid');
    if (sessionOf(req)?.linkId === link.linkId)
      return res.redirect(303, `/pickup/session?lang=${pageLanguage(req)}`);
    const nonce = validNonce(cookieValue(req.get('cookie'), FORM_COOKIE)) ?? sessions.newNonce();
    res.set('Set-Cookie', cookie(req, FORM_COOKIE, nonce, 3600));
    sendPage(
      res,
      200,
      renderSignIn(pageLanguage(req), {
        token: String(req.params.token),
        enrolled,
        sessionMinutes,
        formToken: sessions.formToken(nonce, signInPurpose(link.linkId)),
      }),
    );
  });

  /** The form's post (a JSON body is the API's: pickup-routes.ts). */
  router.post(
    '/:token',
    (req, res, next) => (req.is('application/x-www-form-urlencoded') ? next() : next('router')),
    form,
    async (req, res) => {
      res.set('Cache-Control', 'no-store');
      const lang = pageLanguage(req);
      const token = String(req.params.token);
      const body = (req.body ?? {}) as { csrf?: unknown; totp?: unknown; password?: unknown };
      const link = gate.link(token);
      const enrolled = link.ok ? gate.enrolled(link) : undefined;
      if (!link.ok || !enrolled || (!enrolled.totp && !enrolled.password))
        return notice(res, req, 404, 'linkInvalid');
      const nonce = cookieValue(req.get('cookie'), FORM_COOKIE);
      // Threat: another site posting this form (login CSRF: the victim's browser opening a session the attacker chose).
      if (!sessions.checkFormToken(nonce, signInPurpose(link.linkId), body.csrf))
        return notice(res, req, 403, 'formExpired');
      const factor = {
        ...(typeof body.totp === 'string' && body.totp !== '' ? { totp: body.totp } : {}),
        ...(typeof body.password === 'string' && body.password !== '' ? { password: body.password } : {}),
      };
      const outcome = await gate.check(token, factor, req.socket.remoteAddress ?? 'unknown');
      const again = (status: number, problem: 'wrongFactor' | 'factorRequired', attemptsLeft?: number) =>
        sendPage(
          res,
          status,
          renderSignIn(lang, {
            token,
            enrolled,
            sessionMinutes,
            formToken: sessions.formToken(nonce!, signInPurpose(link.linkId)),
            problem,
            ...(attemptsLeft === undefined ? {} : { attemptsLeft }),
          }),
        );
      if (!outcome.ok) {
        switch (outcome.kind) {
          case 'link':
            return notice(res, req, 404, 'linkInvalid');
          case 'locked':
            return notice(res, req, 403, 'locked');
          case 'client-limit':
            res.set('Retry-After', '900');
            return notice(res, req, 429, 'tooMany');
          case 'assurance':
            return notice(res, req, 403, 'assurance');
          case 'factor-required':
            return again(400, 'factorRequired');
          case 'factor-invalid':
            req.log?.warn(
              { messageId: outcome.link?.messageId, factor: outcome.method },
              'pickup refused: wrong second factor',
            );
            if (outcome.attemptsLeft <= 0) return notice(res, req, 403, 'locked');
            return again(401, 'wrongFactor', outcome.attemptsLeft);
        }
      }
      const message = await ctx.store.getMessage(outcome.link.messageId);
      if (
        !message ||
        message.role !== 'recipient-ap' ||
        formatParticipantId(message.recipient) !== formatParticipantId(outcome.link.recipient)
      )
        return notice(res, req, 404, 'linkInvalid');
      // The link is used up here, by the second factor, and the session takes its place: one browser, one link.
      if (!(await ctx.store.claimPickupLink(outcome.link.linkId, message.id, ctx.clock.now())))
        return notice(res, req, 404, 'linkInvalid');
      gate.used(outcome.link.linkId);
      const value = sessions.issue(
        {
          linkId: outcome.link.linkId,
          messageId: message.id,
          recipient: formatParticipantId(message.recipient),
          identification: outcome.identification,
        },
        ctx.clock.now(),
      );
      res.append('Set-Cookie', cookie(req, SESSION_COOKIE, value, sessions.ttlSeconds));
      res.append('Set-Cookie', cookie(req, FORM_COOKIE, '', 0));
      req.log?.info(
        { messageId: message.id, identification: outcome.identification.method },
        'pickup page: recipient identified',
      );
      res.redirect(303, `/pickup/session?lang=${lang}`);
    },
  );

  return router;
}

/** A form nonce as newNonce makes them; anything else in the cookie is replaced. */
function validNonce(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9_-]{16,64}$/.test(value) ? value : undefined;
}

/** The sender's name as the first evidence of the message (sealed at C3) records it. */
function senderNameOf(xml: string | undefined): string | undefined {
  if (!xml) return undefined;
  try {
    return parseEvidenceXml(xml).sender.name;
  } catch {
    return undefined;
  }
}
