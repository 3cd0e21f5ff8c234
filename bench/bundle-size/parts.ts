/** Bundle-size benchmark: our two files weighed part by part through their source maps. */
import { readFileSync } from 'node:fs';
import { breakdown, type Part, type Sizes, type SourceMapLike } from '../lib/bundle-measure.js';
import { grouped } from '../lib/format.js';
import { readJson } from './peers.js';

/** Names the part of the drop-in each source of its source map belongs to. */
export function dropInPart(source: string): string {
  if (source.includes('/@lit/reactive-element/')) return 'lit: @lit/reactive-element';
  if (/\/lit-html\/(directive|directive-helpers|directives\/)/.test(source)) return 'lit: repeat directive';
  if (source.includes('/lit-html/')) return 'lit: lit-html';
  if (source.includes('/lit-element/')) return 'lit: lit-element';
  if (source.includes('/@lit/context/')) return '@lit/context';
  if (source.includes('/nanostores/')) return 'nanostores';
  if (source.includes('sdk/src/')) return 'our SDK (packages/sdk/src)';
  const element = /src\/(job-[a-z]+)\/job-[a-z]+(\.styles)?\.ts$/.exec(source);
  if (element) return `<${element[1]}>${element[2] ? ' styles' : ''}`;
  // Sources as the maps name them: ../src/… from dist/, ../../src/… from dist/chunks/.
  const widget = /widget\/src\/(.+)$|^(?:\.\.\/)+src\/(.+)$/.exec(source);
  return widget ? `widget ${widget[1] ?? widget[2]}` : source;
}

/** The drop-in's parts in the groups of the floor: lit, @lit/context, the SDK, each element, what they share. */
export function dropInGroup(source: string): string {
  const part = dropInPart(source);
  if (part === 'lit: @lit/reactive-element' || part === 'lit: lit-element')
    return 'LitElement (@lit/reactive-element + lit-element)';
  if (part === 'lit: lit-html') return 'lit-html';
  if (part === 'lit: repeat directive') return 'lit-html repeat directive (keyed cards and toasts)';
  if (part === 'our SDK (packages/sdk/src)') return 'SDK (packages/sdk/src)';
  const element = /^<(job-[a-z]+)>|^widget (job-[a-z]+)\//.exec(part);
  if (element) return `<${element[1] ?? element[2]}> (element, styles, its controllers)`;
  if (/^widget (drop-in\/|standalone)/.test(part)) return 'drop-in: lazy definitions and exports';
  if (part.startsWith('widget shared/'))
    return 'shared by the elements (cards, messages, styles, controllers)';
  return part;
}

/** Names the part of the SDK-alone file each source belongs to. */
export function sdkPart(source: string): string {
  if (source.includes('/nanostores/')) return 'nanostores';
  const own = /(?:^|\/)src\/(.+)$/.exec(source);
  return own ? `sdk ${own[1]}` : source;
}

export const weigh = (file: string, partOf: (source: string) => string): Part[] =>
  breakdown(readFileSync(file, 'utf8'), readJson(`${file}.map`) as SourceMapLike, partOf);

/** Weighs several files a page fetches one by one: each part's figures added up over the files. */
export function weighFiles(files: string[], partOf: (source: string) => string): Part[] {
  const byName = new Map<string, Part>();
  for (const part of files.flatMap((file) => weigh(file, partOf))) {
    const sum = byName.get(part.name);
    byName.set(
      part.name,
      sum
        ? {
            name: part.name,
            min: sum.min + part.min,
            gzipAlone: sum.gzipAlone + part.gzipAlone,
            gzipMarginal: sum.gzipMarginal + part.gzipMarginal,
            brotliAlone: sum.brotliAlone + part.brotliAlone,
            brotliMarginal: sum.brotliMarginal + part.brotliMarginal,
          }
        : part,
    );
  }
  return [...byName.values()].sort((a, b) => b.gzipMarginal - a.gzipMarginal);
}

export function partsTable(title: string, parts: Part[], total: Sizes): string {
  return [
    `${title} (whole file: ${grouped(total.min)} B min, ${grouped(total.gzip)} B gzip, ${grouped(total.brotli)} B brotli)`,
    '| part | min B | gzip B alone | gzip B added | brotli B added |',
    '| --- | --- | --- | --- | --- |',
    ...parts.map(
      (p) =>
        `| ${p.name} | ${grouped(p.min)} | ${grouped(p.gzipAlone)} | ${grouped(p.gzipMarginal)} | ${grouped(p.brotliMarginal)} |`,
    ),
  ].join('\n');
}
