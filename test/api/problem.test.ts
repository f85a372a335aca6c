import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler } from '../../src/api/problem.js';
import { coreErrors, QerdsError, type QerdsErrorCode } from '../../src/core/index.js';
import { pipelineErrors } from '../../src/pipeline/index.js';

/** The REST edge answers a QerdsError from the catalogues: status and title from the entry, text hidden on a 500. */
let base = '';
let close: () => Promise<void>;

beforeAll(async () => {
  const app = express();
  app.get('/throw/:code', (req) => {
    // Any string, as a QerdsError rebuilt from a foreign code at run time could carry: the handler must cope.
    throw new QerdsError(req.params.code as QerdsErrorCode, `message of ${req.params.code}`);
  });
  app.use(problemHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

async function problemFor(code: string) {
  const res = await fetch(`${base}/throw/${code}`);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('problemHandler', () => {
  it('answers a catalogued code with the status and title of its entry, and the error message as detail', async () => {
    const unknown = await problemFor('PIPELINE_UNKNOWN_RECIPIENT');
    expect(unknown.status).toBe(pipelineErrors.PIPELINE_UNKNOWN_RECIPIENT.httpStatus);
    expect(unknown.body).toMatchObject({
      code: 'PIPELINE_UNKNOWN_RECIPIENT',
      title: pipelineErrors.PIPELINE_UNKNOWN_RECIPIENT.text,
      detail: 'message of PIPELINE_UNKNOWN_RECIPIENT',
    });
    const conflict = await problemFor('STATE_CONFLICT');
    expect(conflict.status).toBe(409);
    expect(conflict.body.title).toBe(coreErrors.STATE_CONFLICT.text);
  });

  it('answers any other code, or a name of Object.prototype, with a 500 that does not show the message', async () => {
    for (const code of ['CRYPTO_MALFORMED', 'SOME_UNCATALOGUED_CODE', 'constructor', '__proto__']) {
      const { status, body } = await problemFor(code);
      expect(status, code).toBe(500);
      expect(body.detail, code).toBe('internal error');
    }
  });
});
