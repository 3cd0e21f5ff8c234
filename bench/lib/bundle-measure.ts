// Helpers of bench/bundle-size.ts: compressed sizes, and which source module each byte of a minified bundle
// came from (read from the bundle's source map, the way source-map-explorer attributes bytes).
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export interface Sizes {
  /** Bytes of the minified file. */
  min: number;
  /** Bytes after gzip -9 (what scripts/check-size.mjs measures). */
  gzip: number;
  /** Bytes after brotli quality 11. */
  brotli: number;
}

export const gzipBytes = (data: string | Uint8Array) => gzipSync(data, { level: 9 }).length;
export const brotliBytes = (data: string | Uint8Array) =>
  brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

export function sizes(data: string | Uint8Array): Sizes {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  return { min: buffer.length, gzip: gzipBytes(buffer), brotli: brotliBytes(buffer) };
}

/** Adds up the sizes of files a browser fetches one by one (each compressed on its own). */
export const sumSizes = (list: Sizes[]): Sizes =>
  list.reduce((a, b) => ({ min: a.min + b.min, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), {
    min: 0,
    gzip: 0,
    brotli: 0,
  });

/** The part of a source map this file reads. */
export interface SourceMapLike {
  sources: string[];
  mappings: string;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((char, index) => [char, index]));

/** Decodes one segment's Base64 VLQ fields. */
function decodeSegment(segment: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new Error(`bad source map character "${char}"`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    fields.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
    value = 0;
    shift = 0;
  }
  return fields;
}

/** A run of the generated code and the source it maps to (-1: unmapped, e.g. rollup's export statement). */
export interface Span {
  start: number;
  end: number;
  source: number;
}

/**
 * Splits the generated code into spans, each attributed to the source of the mapping segment that starts it.
 * Columns are UTF-16 offsets within a line, as the source map spec says. A line that starts without a segment
 * continues the previous line's token (the lines of a multi-line template literal), so it, and the line break
 * before it, belong to that token's source; the trailing `//# sourceMappingURL=` line is unmapped.
 */
export function spans(code: string, map: SourceMapLike): Span[] {
  const lines = code.split('\n');
  const mappingLines = map.mappings.split(';');
  const result: Span[] = [];
  let source = 0;
  let offset = 0;
  let current = -1;
  for (let line = 0; line < lines.length; line++) {
    const text = lines[line] ?? '';
    let column = 0;
    let start = 0;
    if (text.startsWith('//# sourceMappingURL=') && !mappingLines[line]) current = -1;
    for (const segment of (mappingLines[line] ?? '').split(',')) {
      if (segment === '') continue;
      const fields = decodeSegment(segment);
      column += fields[0] ?? 0;
      if (fields.length >= 4) source += fields[1] ?? 0;
      if (column > start) result.push({ start: offset + start, end: offset + column, source: current });
      start = Math.max(start, column);
      current = fields.length >= 4 ? source : -1;
    }
    if (text.length > start)
      result.push({ start: offset + start, end: offset + text.length, source: current });
    offset += text.length;
    if (line < lines.length - 1) {
      result.push({ start: offset, end: offset + 1, source: current });
      offset += 1;
    }
  }
  return result;
}

/** One part of a bundle (a group of source modules) and what it weighs in it. */
export interface Part {
  name: string;
  /** Minified bytes (UTF-8) attributed to the part through the source map. */
  min: number;
  /** gzip -9 of the part's minified bytes alone, concatenated in bundle order. */
  gzipAlone: number;
  /** gzip of the whole bundle minus gzip of the bundle with the part's bytes cut out: what it adds. */
  gzipMarginal: number;
  /** The same two for brotli 11. */
  brotliAlone: number;
  brotliMarginal: number;
}

/**
 * Weighs each part of a minified bundle: `partOf` names the part of each source path (as the map spells it).
 * The "marginal" figures cut the part's bytes out of the minified text (no rebuild, so the result need not
 * run) and compress the rest: the bytes the part adds on top of everything else, after the compressor has
 * shared what it can. Marginals add up to less than the total (shared strings count once, for neither).
 */
export function breakdown(code: string, map: SourceMapLike, partOf: (source: string) => string): Part[] {
  // The file's closing `export{…}` list is rollup's, though terser maps it to the last module.
  const tail =
    /export\s*\{[^{}]*\}\s*;?\s*(?:\/\/# sourceMappingURL=\S*\s*)?$/.exec(code)?.index ?? code.length;
  const all = spans(code, map).flatMap((span): Span[] => {
    if (span.end <= tail) return [span];
    if (span.start >= tail) return [{ ...span, source: -1 }];
    return [
      { ...span, end: tail },
      { start: tail, end: span.end, source: -1 },
    ];
  });
  const names = map.sources.map(partOf);
  const byPart = new Map<string, Span[]>();
  for (const span of all) {
    const name = span.source < 0 ? '(rollup: export list, unmapped bytes)' : (names[span.source] ?? '?');
    const list = byPart.get(name) ?? [];
    list.push(span);
    byPart.set(name, list);
  }
  const whole = { gzip: gzipBytes(code), brotli: brotliBytes(code) };
  const parts: Part[] = [];
  for (const [name, list] of byPart) {
    const own = list.map((span) => code.slice(span.start, span.end)).join('');
    const mine = new Set(list);
    const rest = all
      .filter((span) => !mine.has(span))
      .map((span) => code.slice(span.start, span.end))
      .join('');
    parts.push({
      name,
      min: Buffer.byteLength(own),
      gzipAlone: gzipBytes(own),
      gzipMarginal: whole.gzip - gzipBytes(rest),
      brotliAlone: brotliBytes(own),
      brotliMarginal: whole.brotli - brotliBytes(rest),
    });
  }
  return parts.sort((a, b) => b.gzipMarginal - a.gzipMarginal);
}
