import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { webhookSecretPattern } from '../config/schema.js';
import { QerdsError } from '../core/index.js';
import type { NoticeResult } from '../pipeline/index.js';

/**
 * POSTs JSON to a participant's webhook, signed the Standard Webhooks way (standardwebhooks.com, the
 * scheme of Svix and others, with verifiers in most languages): headers `webhook-id` (stable across
 * retries, so the receiver can drop a repeat), `webhook-timestamp` (Unix seconds, so it can refuse a
 * replay) and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. Without a
 * secret the POST is unsigned; the receiver then has only TLS to go on.
 */
export interface WebhookPost {
  readonly url: string;
  /** Identifies the event, not the attempt: the same on every retry. */
  readonly id: string;
  readonly body: Record<string, unknown>;
  /** `whsec_<base64 key>` (see `webhookSecretPattern`). */
  readonly secret?: string;
  readonly timeoutMs: number;
  /** Seconds since the epoch to sign; default now. */
  readonly timestamp?: number;
}

/** The `webhook-signature` value for one POST. */
export function webhookSignature(secret: string, id: string, timestamp: number, payload: string): string {
  if (!webhookSecretPattern.test(secret))
    throw new QerdsError(
      'CONFIG_INVALID',
      'a webhook secret must be whsec_ followed by a base64 key of 24 bytes or more',
    );
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64')}`;
}

export async function postWebhook(post: WebhookPost, log: Logger): Promise<NoticeResult> {
  const payload = JSON.stringify(post.body);
  const timestamp = post.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': post.id,
    'webhook-timestamp': String(timestamp),
  };
  if (post.secret) headers['webhook-signature'] = webhookSignature(post.secret, post.id, timestamp, payload);
  let response: Response;
  try {
    // No redirects: a notice goes only where the operator configured it (threat: a redirect sending it elsewhere).
    response = await fetch(post.url, {
      method: 'POST',
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(post.timeoutMs),
    });
  } catch (error) {
    return {
      status: 'refused',
      permanent: false,
      reason: `webhook ${post.url} unreachable: ${(error as Error).message}`,
    };
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) {
    log.debug(
      { url: post.url, status: response.status, type: post.body.type, webhookId: post.id },
      'webhook notified',
    );
    return { status: 'sent', channel: `webhook ${post.url}` };
  }
  // 3xx (not followed) and 4xx: the receiving end refuses this request as such, and a retry sends the same;
  // 408/429 and 5xx may pass later.
  const permanent = response.status < 500 && response.status !== 408 && response.status !== 429;
  return { status: 'refused', permanent, reason: `webhook ${post.url} answered HTTP ${response.status}` };
}
