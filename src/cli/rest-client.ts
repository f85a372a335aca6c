import { Option, type Command } from 'commander';

/** Where the CLI's REST commands go and who they are: an AP's base URL and the caller's API key. */
export interface ApiTarget {
  readonly api: string;
  readonly key: string;
}

/** The options every REST command takes: `--api` (env QERDS_API) and `--key` (env QERDS_API_KEY). */
export function withApiTarget(command: Command): Command {
  // Read from the environment by commander when the option is absent; never a default (--help would print the key).
  return command
    .addOption(
      new Option('--api <url>', 'base URL of the access point')
        .env('QERDS_API')
        .default('http://127.0.0.1:8080'),
    )
    .addOption(new Option('--key <apiKey>', 'API key').env('QERDS_API_KEY').default(''));
}

/**
 * An answer of the AP other than 2xx, as one line for the operator: the request, the status and the
 * problem's stable code and detail (RFC 9457 body), e.g. `GET /api/v1/messages/x: 404 NOT_FOUND: no message x`.
 */
export class ApiAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly body: unknown,
    request: string,
  ) {
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    super(
      `${request}: ${status}${code ? ` ${code}` : ''}${typeof detail === 'string' ? `: ${detail}` : ''}${status === 401 ? ' (check --key or QERDS_API_KEY)' : ''}`,
    );
    this.name = 'ApiAnswerError';
  }
}

/** Sends a request with the API key; the raw response when it is 2xx, otherwise an ApiAnswerError. */
export async function request(target: ApiTarget, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${target.key}`);
  const response = await fetch(new URL(path, target.api), { ...init, headers });
  if (response.ok) return response;
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not a problem document (e.g. a proxy's HTML page): the status says enough.
  }
  const code =
    typeof (body as { code?: unknown })?.code === 'string' ? (body as { code: string }).code : undefined;
  throw new ApiAnswerError(response.status, code, body, `${init.method ?? 'GET'} ${path}`);
}

/** GETs (or sends) a JSON resource; see request(). */
export async function requestJson<T>(target: ApiTarget, path: string, init: RequestInit = {}): Promise<T> {
  return (await (await request(target, path, init)).json()) as T;
}

/** A message as the REST API shows it (schemas/openapi.yaml, Message): the fields the CLI prints. */
export interface MessageJson {
  readonly id: string;
  readonly state: string;
  readonly sender: string;
  readonly recipient: string;
  readonly subject?: string;
  readonly reference?: string;
  readonly submittedAt: string;
  readonly updatedAt: string;
  readonly lastError?: string;
  readonly parts: readonly {
    partId: string;
    contentType: string;
    filename?: string;
    sha256: string;
    size: number;
    href?: string;
  }[];
}

export interface EvidenceJson {
  readonly id: string;
  readonly event: string;
  readonly href: string;
  readonly sequence?: number;
  readonly eventTime?: string;
  readonly issuedBy?: string;
}

/** States after which nothing more happens to a message (src/core/message.ts). */
export const finalStates: readonly string[] = ['delivered', 'rejected', 'failed'];

/** A message's evidence chain as lines: `  1 SubmissionAcceptance  2026-…  by <issuer>  /api/v1/evidence/<id>`. */
export function evidenceLines(chain: readonly EvidenceJson[]): string[] {
  const width = Math.max(0, ...chain.map((e) => e.event.length));
  return chain.map(
    (e, i) =>
      `  ${e.sequence ?? i + 1} ${e.event.padEnd(width)}  ${e.eventTime ?? ''}${e.issuedBy ? `  by ${e.issuedBy}` : ''}  ${e.href}`,
  );
}
