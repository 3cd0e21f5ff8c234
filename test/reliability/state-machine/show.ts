/** JSON for failure messages, with NaN and the infinities spelled out rather than turned into null. */
export const show = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
