import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';
import { isJsonContentType, readBodyText } from './validate.js';

/** How deeply a request's JSON may nest, counting the body's own object. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests arrays and objects deeper than `maxDepth`. A scan of the characters, without
 * recursion and without parsing, so that 100,000 levels cost what 100,000 characters cost; brackets
 * inside strings do not count.
 */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}

/**
 * Reads every JSON request body once, before the routes (413 over `maxBodyBytes`), and refuses one that
 * nests deeper than `maxDepth` with 400 `json_too_deep`: parsing, validating and storing such a value
 * recurses, and would overflow the stack. The routes read the same text again from Hono's body cache.
 */
export function limitJsonDepth(maxBodyBytes: number, maxDepth = MAX_JSON_DEPTH): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST' && isJsonContentType(c.req.header('content-type'))) {
      const text = await readBodyText(c, maxBodyBytes);
      if (jsonNestsDeeperThan(text, maxDepth)) {
        throw new ApiError(
          400,
          'json_too_deep',
          `The JSON body nests more than ${maxDepth} levels of arrays and objects.`,
        );
      }
    }
    await next();
  };
}
