/**
 * The one error type of qerds-ap. Codes are stable strings (`PKI_CERT_REVOKED`, `AS4_EBMS_0103`…):
 * callers and logs match on `code`, never on `message`. Only protocol edges (AS4, SMTP, HTTP) turn a
 * QerdsError into wire form, using the catalogue of the module that owns the code.
 */
export class QerdsError extends Error {
  readonly code: QerdsErrorCode;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    code: QerdsErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QerdsError';
    this.code = code;
    if (options.details) this.details = Object.freeze({ ...options.details });
  }
}

/** Wire form of an error at the HTTP edge (RFC 9457 problem+json) and whether a retry may help. */
export interface ErrorCatalogueEntry {
  readonly text: string;
  readonly httpStatus: number;
  readonly retryable: boolean;
}

/** Codes shared across modules. Modules keep their own catalogues beside their code. */
export const coreErrors = {
  CONFIG_INVALID: { text: 'configuration is invalid', httpStatus: 500, retryable: false },
  NOT_FOUND: { text: 'not found', httpStatus: 404, retryable: false },
  AUTH_REQUIRED: { text: 'authentication required', httpStatus: 401, retryable: false },
  BAD_REQUEST: { text: 'request is malformed', httpStatus: 400, retryable: false },
  PAYLOAD_TOO_LARGE: { text: 'payload exceeds the configured limit', httpStatus: 413, retryable: false },
  STATE_CONFLICT: { text: 'message is not in a state that allows this', httpStatus: 409, retryable: false },
  INTERNAL: { text: 'internal error', httpStatus: 500, retryable: true },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/**
 * The error catalogues of the code base, by module. Each module adds its catalogue's type to this interface from
 * its own errors.ts (declaration merging: `declare module '../core/errors.js'`), so that the union below is built
 * from the module catalogues while core imports none of them. test/unit/error-catalogue.test.ts holds the
 * catalogues to the codes the code base throws.
 */
export interface QerdsErrorCatalogues {
  readonly core: typeof coreErrors;
}

/** One catalogued error code of any module. */
export type QerdsErrorCode = {
  [M in keyof QerdsErrorCatalogues]: keyof QerdsErrorCatalogues[M] & string;
}[keyof QerdsErrorCatalogues];

export function isQerdsError(value: unknown, code?: string): value is QerdsError {
  return value instanceof QerdsError && (code === undefined || value.code === code);
}
