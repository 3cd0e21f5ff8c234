/**
 * Number formatting for the reports, in one place. Two different jobs, so two names:
 * `grouped` gives text for a reader ("12,345"), `roundTo` gives a number to store in a figure or param.
 */

/** Rounded to a whole number and written with thousands separators, e.g. 12345.6 → "12,346". */
export const grouped = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Rounded to `digits` decimals, still a number (for figures and params), e.g. roundTo(1.2345, 2) → 1.23. */
export const roundTo = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Three significant figures below 100, whole and grouped from 100 up: how the report tables show values. */
export const significant = (value: number): string =>
  Math.abs(value) >= 100 ? grouped(value) : Number(value.toPrecision(3)).toString();

/** A value already in percent, rounded to a whole one, e.g. 12.5 → "13%". */
export const wholePercent = (percent: number): string => `${Math.round(percent)}%`;

/** A share (0..1) as a whole percentage, e.g. 0.123 → "12%". */
export const percentOf = (share: number): string => `${(share * 100).toFixed(0)}%`;

/** Microseconds, one decimal below 10, e.g. "4.2 µs", "120 µs"; "?" when not measured. */
export const micros = (value: number | undefined): string =>
  value === undefined ? '?' : `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} µs`;

/** A difference in µs with its sign, e.g. "+4.2 µs", "−12 µs". */
export const signedMicros = (value: number): string => `${value < 0 ? '−' : '+'}${micros(Math.abs(value))}`;
