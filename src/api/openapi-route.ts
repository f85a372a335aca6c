import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';

/**
 * The API's contract, schemas/openapi.yaml, as shipped beside the code (the image copies it): read once,
 * from the same place relative to src/api/ (tsx) and dist/api/ (built). Public, like any API description:
 * it holds no secret, and a client generator needs it before it has credentials.
 */
export function openApiHandler(
  file = new URL('../../schemas/openapi.yaml', import.meta.url),
): RequestHandler {
  let text: string | undefined;
  return (_req, res) => {
    text ??= readFileSync(file, 'utf8');
    res.type('application/yaml').send(text);
  };
}
