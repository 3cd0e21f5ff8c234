import { createHmac } from 'node:crypto';

/** Signs an HS256 JWT as a host backend would, for tests against a server started with `--secret`. */
export function signTestToken(sub: string, secret: string, expiresInSeconds = 600): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat, exp: iat + expiresInSeconds })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** An in-memory `localStorage` for Node tests. */
export function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

export { eventually } from './browser-assert.js';
