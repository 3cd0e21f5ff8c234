/** A bearer token, or a function that returns a fresh one (called again after a 401 and before expiry). */
export type TokenOption =
  | string
  | null
  | undefined
  | (() => string | null | undefined | Promise<string | null | undefined>);

/** The claims of a JWT, read without verifying it (the server verifies). */
export function jwtClaims(token: string | null | undefined): { sub?: unknown; exp?: unknown } | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** Hands out the current token; asks the token function again when forced or within 30 s of `exp`. */
export function createTokenSource(option: TokenOption, now: () => number = Date.now) {
  let current: Promise<string | null | undefined> | null = null;
  let expiresAt = Infinity;
  return async (force = false): Promise<string | null | undefined> => {
    if (typeof option !== 'function') return option;
    if (force || !current || now() > expiresAt - 30_000) {
      const fresh = Promise.resolve(option());
      current = fresh;
      fresh.then(
        (token) => {
          const exp = jwtClaims(token)?.exp;
          expiresAt = typeof exp === 'number' ? exp * 1000 : Infinity;
        },
        () => {
          if (current === fresh) current = null;
        },
      );
    }
    return current;
  };
}
