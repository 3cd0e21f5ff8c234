import { readFileSync } from 'node:fs';

/** The fenced code blocks of a Markdown file in the given languages (```ts, ```tsx, …), in order. */
export function fencedBlocks(
  path: string | URL,
  languages: readonly string[],
): { language: string; code: string }[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)]
    .map((match) => ({ language: match[1] ?? '', code: match[2] ?? '' }))
    .filter((block) => languages.includes(block.language));
}
