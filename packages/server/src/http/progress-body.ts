import { MAX_LEASE_MS, MIN_LEASE_MS, type ProgressRequest } from '@jobtracker/sdk/wire';
import { LIMITS } from './schemas.js';

type Fields = Record<string, unknown>;

const PROGRESS_KEYS = new Set(['leaseToken', 'progress', 'message', 'leaseMs']);
const BATCH_ITEM_KEYS = new Set(['id', 'leaseToken', 'progress', 'message', 'leaseMs']);
const UPDATES_KEY = new Set(['updates']);

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function onlyKeys(value: Fields, keys: ReadonlySet<string>): boolean {
  for (const key in value) if (!keys.has(key)) return false;
  return true;
}

/** The fields of a progress report beside its job id, as `progressBody` checks them. */
function fitsProgress(value: Fields): boolean {
  const { leaseToken, progress, message, leaseMs } = value;
  return (
    typeof leaseToken === 'string' &&
    leaseToken.length >= 1 &&
    leaseToken.length <= 100 &&
    (progress === undefined ||
      progress === null ||
      (typeof progress === 'number' && progress >= 0 && progress <= 100)) &&
    (message === undefined ||
      message === null ||
      (typeof message === 'string' && message.length <= LIMITS.messageLength)) &&
    (leaseMs === undefined ||
      (Number.isSafeInteger(leaseMs) &&
        (leaseMs as number) >= MIN_LEASE_MS &&
        (leaseMs as number) <= MAX_LEASE_MS))
  );
}

/**
 * A parsed JSON body as `progressBody` reads it, when it fits, checked by hand: zod's generic walk
 * costs several times this on the busiest route. Undefined when it does not fit: then `check` with the
 * schema words the refusal. It accepts exactly what the schema accepts (a property test holds them
 * together), and answers the same fields.
 */
export function readProgressBody(value: unknown): ProgressRequest | undefined {
  if (!isFields(value) || !onlyKeys(value, PROGRESS_KEYS) || !fitsProgress(value)) return undefined;
  return value as unknown as ProgressRequest;
}

/** The same for `progressBatchBody`: `{ updates: [...] }`, 1 to 1,000 of them, each with its job `id`. */
export function readProgressBatchBody(
  value: unknown,
): { updates: (ProgressRequest & { id: string })[] } | undefined {
  if (!isFields(value) || !onlyKeys(value, UPDATES_KEY)) return undefined;
  const { updates } = value;
  if (!Array.isArray(updates) || updates.length < 1 || updates.length > LIMITS.progressBatch)
    return undefined;
  for (const update of updates) {
    if (!isFields(update) || !onlyKeys(update, BATCH_ITEM_KEYS) || !fitsProgress(update)) return undefined;
    if (typeof update.id !== 'string' || update.id.length > 100) return undefined;
  }
  return value as unknown as { updates: (ProgressRequest & { id: string })[] };
}
