/**
 * The URLs of C3's REST API that a notice to a recipient points at. Kept in one place so that another form
 * (e.g. signed one-time links for people) can replace it without touching the notification channels.
 */
export interface RecipientLinks {
  /** Where the recipient picks the message up: its inbox entry, which lists the parts to download. */
  pickup(messageId: string): string;
  /** POST here to accept a message that awaits acceptance. */
  accept(messageId: string): string;
  /** POST here to reject it. */
  reject(messageId: string): string;
}

/** Links under `${baseUrl()}/api/v1` (the base is read when a notice is built: the port is known only once listening). */
export function apiRecipientLinks(baseUrl: () => string): RecipientLinks {
  const at = (path: string) => `${baseUrl().replace(/\/+$/, '')}/api/v1${path}`;
  return {
    pickup: (id) => at(`/inbox/${encodeURIComponent(id)}`),
    accept: (id) => at(`/messages/${encodeURIComponent(id)}/accept`),
    reject: (id) => at(`/messages/${encodeURIComponent(id)}/reject`),
  };
}
