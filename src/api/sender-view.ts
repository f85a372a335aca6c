import express, { Router, type Request, type Response } from 'express';
import { formatParticipantId, messageStates, type MessageState } from '../core/index.js';
import { plainSummary, verifyAny, type PlainLanguage } from '../evidence/index.js';
import type { PipelineContext } from '../pipeline/index.js';
import { createTrustStore, type TrustStore } from '../pki/index.js';
import { createRateWindow } from '../smtp/index.js';
import type { StoredMessage } from '../store/types.js';
import type { TrustList } from '../trust-list/index.js';
import type { AccountRegistry } from './accounts.js';
import { pageLanguage, sendPage } from './html-page.js';
import { cookieValue, createBrowserSessions, type BrowserSession } from './browser-session.js';
import {
  renderLoginPage,
  renderMessagePage,
  renderNotFound,
  renderSentList,
  type ListFilter,
} from './sender-view-html.js';
import { renderResultPage } from './verify-page-html.js';
import { proofVerifiers } from './verify-routes.js';

export interface SenderViewOptions {
  readonly accounts: AccountRegistry;
  readonly trust?: TrustStore;
  readonly trustList?: TrustList;
  /** Signs the session cookie; share it between the AP's API processes. @defaultValue a random key per process */
  readonly sessionSecret?: string;
  /** Session lifetime in seconds. @defaultValue 3600 */
  readonly sessionTtlSeconds?: number;
  /** Messages per page. @defaultValue 50 */
  readonly pageSize?: number;
}

const COOKIE = 'qerds_sender';

/**
 * The sender's view: its staff sign in with the organisation's API key and see the messages it sent, each
 * with its state and its evidence timeline, every evidence downloadable and verifiable in one click (the same
 * verifier as the public page). Server-rendered. The session is a signed cookie (HttpOnly, SameSite=Strict:
 * threat, a script or another site using the session); the only state-changing requests are sign-in and
 * sign-out, so SameSite=Strict is the CSRF defence. Another participant's message is "no such message", alike.
 */
export function senderViewRouter(ctx: PipelineContext, options: SenderViewOptions): Router {
  const router = Router();
  const sessions = createBrowserSessions({
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ttlSeconds: options.sessionTtlSeconds ?? 3600,
  });
  const trust = options.trust ?? createTrustStore([]);
  const pageSize = options.pageSize ?? 50;
  // Threat: guessing API keys through the sign-in form; counted per client address.
  const failedLogins = createRateWindow({ windowMs: 15 * 60_000, now: () => ctx.clock.now().getTime() });

  const sessionOf = (req: Request): BrowserSession | undefined =>
    sessions.read(cookieValue(req.get('cookie'), COOKIE), ctx.clock.now());
  const html = sendPage;
  const secureCookie = (req: Request) =>
    (req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';

  router.get('/sender/login', (req, res) => html(res, 200, renderLoginPage(pageLanguage(req))));
  router.post('/sender/login', express.urlencoded({ extended: false, limit: '2kb' }), (req, res) => {
    const lang = pageLanguage(req);
    const client = req.socket.remoteAddress ?? 'unknown';
    if (failedLogins.count(client) >= 10) return html(res, 429, renderLoginPage(lang, 'tooMany'));
    const presented =
      typeof (req.body as { apiKey?: unknown } | undefined)?.apiKey === 'string'
        ? (req.body as { apiKey: string }).apiKey
        : '';
    const match = presented ? options.accounts.byApiKey(presented) : undefined;
    if (!match) {
      failedLogins.add(client);
      req.log?.warn('sender view: sign-in refused');
      return html(res, 401, renderLoginPage(lang, 'loginFailed'));
    }
    const value = sessions.issue(
      { participant: formatParticipantId(match.participant), name: match.name },
      ctx.clock.now(),
    );
    res.set(
      'Set-Cookie',
      `${COOKIE}=${value}; Path=/sender; HttpOnly; SameSite=Strict; Max-Age=${sessions.ttlSeconds}${secureCookie(req)}`,
    );
    res.redirect(303, `/sender?lang=${lang}`);
  });
  router.post('/sender/logout', (req, res) => {
    res.set(
      'Set-Cookie',
      `${COOKIE}=; Path=/sender; HttpOnly; SameSite=Strict; Max-Age=0${secureCookie(req)}`,
    );
    res.redirect(303, `/sender/login?lang=${pageLanguage(req)}`);
  });

  /** Pages below need a session: without one, the sign-in page. */
  const withSession =
    (handler: (req: Request, res: Response, session: BrowserSession, lang: PlainLanguage) => Promise<void>) =>
    async (req: Request, res: Response) => {
      const session = sessionOf(req);
      const lang = pageLanguage(req);
      if (!session) return res.redirect(303, `/sender/login?lang=${lang}`);
      res.set('Cache-Control', 'no-store');
      await handler(req, res, session, lang);
    };

  /** The message when it is this participant's own, sent through this AP; undefined otherwise (alike, threat: probing ids). */
  const ownMessage = async (id: string, session: BrowserSession): Promise<StoredMessage | undefined> => {
    const message = await ctx.store.getMessage(id);
    if (
      !message ||
      message.role !== 'sender-ap' ||
      formatParticipantId(message.sender) !== session.participant
    )
      return undefined;
    return message;
  };

  router.get(
    '/sender',
    withSession(async (req, res, session, lang) => {
      const filter = listFilter(req);
      const after =
        typeof req.query.after === 'string' && req.query.after !== '' ? req.query.after : undefined;
      const page = await ctx.store.listSent({
        sender: session.participant,
        limit: pageSize,
        ...(filter.state ? { states: [filter.state] } : {}),
        ...(filter.recipient ? { recipient: filter.recipient } : {}),
        ...(filter.reference ? { reference: filter.reference } : {}),
        ...(filter.since ? { since: new Date(`${filter.since}T00:00:00Z`) } : {}),
        ...(filter.until ? { until: new Date(`${filter.until}T23:59:59.999Z`) } : {}),
        ...(after ? { after } : {}),
      });
      const query = new URLSearchParams({
        lang,
        ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v)),
      });
      const next =
        page.next !== undefined
          ? `/sender?${query.toString()}&after=${encodeURIComponent(page.next)}`
          : undefined;
      html(res, 200, renderSentList(lang, session.name, page.messages, filter, next));
    }),
  );

  router.get(
    '/sender/messages/:id',
    withSession(async (req, res, session, lang) => {
      const message = await ownMessage(String(req.params.id), session);
      if (!message) return html(res, 404, renderNotFound(lang, session.name));
      html(
        res,
        200,
        renderMessagePage(lang, session.name, message, await ctx.store.listEvidence(message.id)),
      );
    }),
  );

  /** The evidence's message, when it is the participant's own. */
  const ownEvidence = async (id: string, session: BrowserSession) => {
    const evidence = await ctx.store.getEvidence(id);
    if (!evidence || !(await ownMessage(evidence.messageId, session))) return undefined;
    return evidence;
  };

  router.get(
    '/sender/evidence/:file',
    withSession(async (req, res, session, lang) => {
      const file = String(req.params.file);
      if (!file.endsWith('.xml')) return html(res, 404, renderNotFound(lang, session.name));
      const evidence = await ownEvidence(file.slice(0, -'.xml'.length), session);
      if (!evidence) return html(res, 404, renderNotFound(lang, session.name));
      // Exactly as sealed: the bytes are what the seal covers.
      res.type('application/xml').attachment(`${evidence.sequence}-${evidence.event}.xml`).send(evidence.xml);
    }),
  );

  router.get(
    '/sender/evidence/:id/verify',
    withSession(async (req, res, session, lang) => {
      const evidence = await ownEvidence(String(req.params.id), session);
      if (!evidence) return html(res, 404, renderNotFound(lang, session.name));
      const result = await verifyAny(Buffer.from(evidence.xml, 'utf8'), {
        trust,
        at: ctx.clock.now(),
        verifiers: proofVerifiers,
        ...(options.trustList ? { trustList: options.trustList } : {}),
      });
      const summary = plainSummary(result, { lang });
      html(
        res,
        200,
        renderResultPage(summary, {
          fileName: `${evidence.sequence}-${evidence.event}.xml`,
          technical: result.words,
          reportJson: result.json,
          ...(result.xml ? { reportXml: result.xml } : {}),
        }),
      );
    }),
  );
  return router;
}

function listFilter(req: Request): ListFilter {
  const text = (name: string) =>
    typeof req.query[name] === 'string' && req.query[name] !== ''
      ? String(req.query[name]).slice(0, 200)
      : undefined;
  const state = text('state');
  const date = (name: string) => {
    const value = text(name);
    return value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined;
  };
  return {
    ...(state && (messageStates as readonly string[]).includes(state)
      ? { state: state as MessageState }
      : {}),
    ...(text('recipient') ? { recipient: text('recipient')! } : {}),
    ...(text('reference') ? { reference: text('reference')! } : {}),
    ...(date('since') ? { since: date('since')! } : {}),
    ...(date('until') ? { until: date('until')! } : {}),
  };
}
