import { isQerdsError } from '../../src/core/index.js';

/** The QerdsError code `fn` throws (the error's text when it throws something else), undefined when it returns. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return isQerdsError(error) ? error.code : String(error);
  }
}
