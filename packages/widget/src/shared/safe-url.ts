import type { Job, JsonValue } from '@jobtracker/sdk';

/**
 * The URL when it is safe to render as a link: `http:`/`https:` or relative to the page. Anything
 * else (`javascript:`, `data:`, `vbscript:`, …, however it is cased or encoded) gives null.
 */
export function safeUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    const base = typeof location === 'undefined' ? 'http://localhost/' : location.href;
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function lookup(value: JsonValue | undefined, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, key) ? current[key] : undefined;
  }
  return current;
}

/**
 * Where a finished job's result can be seen: the `template` filled from the job (e.g.
 * `/programs/{result.programId}`, each value URL-encoded), else `result.url`; only if safe.
 */
export function resultUrl(job: Job, template?: string | null): string | null {
  if (template) {
    let missing = false;
    const filled = template.replace(/\{([\w.]+)\}/g, (_, path: string) => {
      const value = lookup(job as unknown as JsonValue, path);
      if (typeof value !== 'string' && typeof value !== 'number') {
        missing = true;
        return '';
      }
      return encodeURIComponent(String(value));
    });
    if (!missing) return safeUrl(filled);
  }
  const result = job.result;
  return result && typeof result === 'object' && !Array.isArray(result) ? safeUrl(result.url) : null;
}
