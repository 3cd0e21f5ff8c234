// The shipped element typings type-check (strict, skipLibCheck false) in React, Preact, Solid, Vue and on
// the page: the fixtures beside this file, examples/react, every TypeScript snippet of README.md and
// docs/widget.md, and a file made from custom-elements.json naming every attribute, property and event of every tag.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fencedBlocks } from '@jobtracker/test-support/markdown';

const root = new URL('../../', import.meta.url);
const here = new URL('./', import.meta.url);
const generated = new URL('.tmp/', here);
const tsc = new URL('node_modules/.bin/tsc', root).pathname;

interface Member {
  kind: string;
  name: string;
  readonly?: boolean;
  static?: boolean;
  privacy?: string;
}
interface Declaration {
  name: string;
  customElement?: boolean;
  tagName?: string;
  members?: Member[];
  attributes?: { name: string; fieldName?: string }[];
  events?: { name: string }[];
}
interface Manifest {
  modules: { declarations?: Declaration[] }[];
}

/** What the documentation's snippets use without defining it. */
const SNIPPET_GLOBALS = `declare function getJobToken(): Promise<string>;
declare function toast(message: string): void;
declare module '*.vue' {
  const component: import('vue').Component;
  export default component;
}
`;

/** The ```tsx blocks (and ```ts blocks that use the widget) of a Markdown file. */
function snippets(file: string): { name: string; code: string; jsx: boolean }[] {
  return fencedBlocks(new URL(file, root), ['ts', 'tsx'])
    .map((block, index) => ({
      name: `${file.replace(/\W+/g, '-')}-${index + 1}`,
      code: block.code,
      jsx: block.language === 'tsx',
    }))
    .filter((snippet) => snippet.jsx || snippet.code.includes('@jobtracker/widget'));
}

/** The JSX import source a snippet's framework typing asks for. */
function pragma(code: string): string {
  if (code.includes("'@jobtracker/widget/preact'")) return '/** @jsxImportSource preact */\n';
  if (code.includes("'@jobtracker/widget/solid'")) return '/** @jsxImportSource solid-js */\n';
  return '';
}

/** A file that names, for each framework, every attribute, property and event the manifest lists. */
function coverage(manifest: Manifest): string {
  const elements = manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .filter((d) => d.customElement);
  const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const lines = [
    "import '@jobtracker/widget/react';",
    "import '@jobtracker/widget/preact';",
    "import '@jobtracker/widget/solid';",
    "import '@jobtracker/widget/vue';",
    "import type { JSX as ReactJSX } from 'react';",
    "import type { JSX as PreactJSX } from 'preact';",
    "import type { JSX as SolidJSX } from 'solid-js';",
    "import type { GlobalComponents } from 'vue';",
    'type Has<T, K extends keyof T> = K;',
    "type VueProps<Tag extends keyof GlobalComponents> = InstanceType<GlobalComponents[Tag]>['$props'];",
  ];
  for (const element of elements) {
    const tag = `'${element.tagName}'`;
    const fields = (element.members ?? []).filter(
      (m) => m.kind === 'field' && !m.static && !m.readonly && (m.privacy ?? 'public') === 'public',
    );
    const readonly = new Set((element.members ?? []).filter((m) => m.readonly).map((m) => m.name));
    const names = [
      ...fields.map((field) => field.name),
      ...(element.attributes ?? []).filter((a) => !readonly.has(a.fieldName ?? a.name)).map((a) => a.name),
    ];
    const events = (element.events ?? []).map((event) => event.name);
    const keys = (list: string[]) => list.map((name) => `'${name}'`).join(' | ') || 'never';
    const id = camel(`-${element.tagName}`);
    lines.push(
      `export type React${id} = Has<ReactJSX.IntrinsicElements[${tag}], ${keys([...names, ...events.map((e) => `on${e}`)])}>;`,
      `export type Preact${id} = Has<PreactJSX.IntrinsicElements[${tag}], ${keys([...names, ...events.map((e) => `on${e}`)])}>;`,
      `export type Solid${id} = Has<SolidJSX.IntrinsicElements[${tag}], ${keys([...names, ...events.map((e) => `on:${e}`)])}>;`,
      `export type Vue${id} = Has<VueProps<${tag}>, ${keys([...names, ...events.map((e) => camel(`on-${e}`))])}>;`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('element typings', () => {
  test('the fixtures, the documentation snippets and every manifest entry type-check in each framework', async () => {
    const manifest = JSON.parse(
      readFileSync(new URL('packages/widget/custom-elements.json', root), 'utf8'),
    ) as Manifest;
    const documented = [...snippets('README.md'), ...snippets('docs/widget.md')];
    assert.ok(
      documented.some((snippet) => snippet.code.includes("'@jobtracker/widget/react'")),
      'README.md or docs/widget.md shows the typed React usage',
    );
    assert.ok(
      documented.some((snippet) => snippet.code.includes("'@jobtracker/widget/vue'")),
      'docs/widget.md shows the typed Vue usage',
    );
    rmSync(generated, { recursive: true, force: true });
    mkdirSync(generated);
    for (const snippet of documented)
      writeFileSync(
        new URL(`${snippet.name}.${snippet.jsx ? 'tsx' : 'mts'}`, generated),
        `${pragma(snippet.code)}${snippet.code}`,
      );
    writeFileSync(new URL('snippet-globals.d.ts', generated), SNIPPET_GLOBALS);
    writeFileSync(new URL('manifest-coverage.mts', generated), coverage(manifest));

    // One program per file: a typing imported by one file must not make another file's snippet compile.
    const fixtures = readdirSync(here).filter((name) => /\.(tsx|mts)$/.test(name));
    const programs = [
      ...fixtures.map((name) => `../${name}`),
      '../../../examples/react/src/main.tsx',
      ...readdirSync(generated).filter((name) => /\.(tsx|mts)$/.test(name)),
    ];
    assert.ok(fixtures.length >= 5, `the fixtures are here (found ${fixtures.join(', ')})`);
    const failures = await Promise.all(
      programs.map(async (file) => {
        const config = new URL(`tsconfig.${file.replace(/\W+/g, '-')}.json`, generated);
        writeFileSync(
          config,
          JSON.stringify({ extends: '../tsconfig.json', include: [], files: [file, 'snippet-globals.d.ts'] }),
        );
        try {
          await promisify(execFile)(tsc, ['-p', config.pathname, '--pretty', 'false'], {
            cwd: root.pathname,
          });
          return null;
        } catch (error) {
          const { stdout, stderr } = error as { stdout?: string; stderr?: string };
          return `${file}:\n${stdout ?? ''}${stderr ?? ''}`;
        }
      }),
    );
    assert.deepEqual(failures.filter(Boolean), [], 'every file type-checks on its own');
  });

  test('the committed typings are what the generator makes from custom-elements.json', () => {
    const result = spawnSync(
      process.execPath,
      [new URL('packages/widget/scripts/generate-element-types.mjs', root).pathname, '--check'],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, `generate-element-types --check: ${result.stderr}`);
  });
});
