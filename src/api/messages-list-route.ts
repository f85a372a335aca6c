import { Router, type RequestHandler } from 'express';
import {
  formatParticipantId,
  messageStates,
  parseParticipantId,
  QerdsError,
  type MessageState,
} from '../core/index.js';
import type { Store } from '../store/types.js';
import { messageView } from './messages-routes.js';

/** Query parameters of GET /messages; anything else is refused (see refuseUnknownQuery). */
const sentQuery = ['state', 'recipient', 'since', 'until', 'reference', 'limit', 'after'] as const;
/** Query parameters of GET /inbox. */
export const inboxQuery = ['limit', 'after'] as const;

/**
 * GET /messages: what the authenticated sender submitted here, newest first, with filters (`state`, one or
 * a comma-separated list; `recipient`; `since` ≤ submission time < `until`, ISO 8601; the sender's own
 * `reference`) and keyset paging as the inbox has: `limit` (1–500, default 100) at a time, and a
 * `Link: <…?after=…>; rel="next"` header that names the next page with the same filters.
 */
export function sentMessagesRouter(store: Store): Router {
  const router = Router();
  router.get('/messages', refuseUnknownQuery(sentQuery), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const limit = pageLimit(query.limit);
    const filter = {
      sender: formatParticipantId(req.principal!.participant),
      limit,
      ...optional('states', one(query, 'state'), states),
      ...optional('recipient', one(query, 'recipient'), recipient),
      ...optional('since', one(query, 'since'), (v) => instant('since', v)),
      ...optional('until', one(query, 'until'), (v) => instant('until', v)),
      ...optional('reference', one(query, 'reference'), (v) => v),
      ...optional('after', one(query, 'after'), (v) => v),
    };
    const page = await store.listSent(filter);
    if (page.next !== undefined) {
      const next = new URLSearchParams();
      for (const name of sentQuery) {
        const value = one(query, name);
        if (value !== undefined && name !== 'after' && name !== 'limit') next.set(name, value);
      }
      next.set('limit', String(limit));
      next.set('after', page.next);
      res.set('Link', `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
    }
    res.json(page.messages.map(messageView));
  });
  return router;
}

/**
 * Refuses a query parameter the endpoint does not know (400 naming it): a misspelt filter (`?stat=`) or one
 * the endpoint does not have would otherwise be ignored, and the client would take the unfiltered answer
 * for a filtered one.
 */
export function refuseUnknownQuery(known: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const unknown = Object.keys(req.query as object).filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new QerdsError(
        'BAD_REQUEST',
        `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; this endpoint takes ${known.join(', ')}`,
      );
    }
    next();
  };
}

/** A parameter given once; repeated (`?state=a&state=b`) or nested: refused rather than silently reduced to one. */
function one(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new QerdsError(
      'BAD_REQUEST',
      `${name} must be given once (use a comma-separated list for several states)`,
    );
  return value;
}

function optional<K extends string, T>(
  key: K,
  value: string | undefined,
  parse: (value: string) => T,
): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: parse(value) }) as { [P in K]?: T };
}

function states(value: string): MessageState[] {
  const list = value.split(',').map((s) => s.trim());
  const wrong = list.filter((s) => !(messageStates as readonly string[]).includes(s));
  if (wrong.length > 0)
    throw new QerdsError(
      'BAD_REQUEST',
      `state ${wrong.map((s) => `"${s}"`).join(', ')} is not one of ${messageStates.join(', ')}`,
    );
  return list as MessageState[];
}

function recipient(value: string): string {
  try {
    return formatParticipantId(parseParticipantId(value));
  } catch {
    throw new QerdsError('BAD_REQUEST', 'recipient must be <scheme>:<value>');
  }
}

/** An ISO 8601 date-time with its offset (`2026-01-31T12:00:00Z`) or a date (`2026-01-31`, midnight UTC). */
function instant(name: string, value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)
    ? new Date(value)
    : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw new QerdsError(
      'BAD_REQUEST',
      `${name} must be an ISO 8601 date-time with offset, e.g. 2026-01-31T00:00:00Z`,
    );
  return date;
}

/** `?limit=`: an integer 1–500; absent: 100. */
function pageLimit(value: unknown): number {
  if (value === undefined) return 100;
  const limit = typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 500))
    throw new QerdsError('BAD_REQUEST', 'limit must be an integer from 1 to 500');
  return limit;
}
