// What `npm publish` would ship for each package: only what runs (modules an entry point reaches, their
// declarations and maps, data they read), every path package.json names, and maps that resolve.
// Reads the built `dist` as it is (`npm test` runs `tsc -b` and rollup first); builds nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const PACKAGES = [
  { dir: 'packages/sdk', browserEntries: ['.'] },
  { dir: 'packages/widget', browserEntries: ['.', './define', './jobtracker.min.js'] },
  { dir: 'packages/server', browserEntries: [] },
  { dir: 'packages/bullmq', browserEntries: [] },
] as const;

/** Files every package may carry besides its code. */
const METADATA = new Set(['package.json', 'README.md', 'LICENSE']);

interface Manifest {
  name: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  customElements?: string;
  sideEffects?: boolean | string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface PackResult {
  name: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

const manifests = new Map(
  PACKAGES.map(({ dir }) => {
    const manifest = JSON.parse(readFileSync(`${root}/${dir}/package.json`, 'utf8')) as Manifest;
    return [manifest.name, { dir, manifest }];
  }),
);

const packed = JSON.parse(
  execFileSync(
    'npm',
    [
      'pack',
      '--dry-run',
      '--json',
      '--ignore-scripts',
      ...[...manifests.keys()].flatMap((name) => ['--workspace', name]),
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ),
) as PackResult[];

/** `./a/b.js` → `a/b.js`; paths in a tarball have no leading `./`. */
const clean = (path: string) => posix.normalize(path).replace(/^\.\//, '');

/** Every (condition path, target) of an `exports` map, e.g. `['.', 'jobtracker-source']` → `./src/index.ts`. */
function exportTargets(
  exports: unknown,
  conditions: string[] = [],
): { conditions: string[]; target: string }[] {
  if (typeof exports === 'string') return [{ conditions, target: exports }];
  if (!exports || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) => exportTargets(value, [...conditions, key]));
}

function namedPaths(manifest: Manifest): { field: string; path: string }[] {
  const named: { field: string; path: string }[] = [];
  for (const { conditions, target } of exportTargets(manifest.exports)) {
    named.push({ field: `exports[${conditions.map((c) => JSON.stringify(c)).join('][')}]`, path: target });
  }
  for (const field of ['main', 'types', 'customElements'] as const) {
    const path = manifest[field];
    if (path) named.push({ field, path });
  }
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, path] of Object.entries(bin)) named.push({ field: `bin.${name}`, path });
  if (Array.isArray(manifest.sideEffects)) {
    for (const path of manifest.sideEffects) named.push({ field: 'sideEffects', path });
  }
  return named;
}

const CODE = /\.(?:m?js|ts|tsx)$/;

/** The specifiers a module imports, re-exports or dynamically imports (comments stripped). */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /(?:^|[;}])\s*(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/gm,
    /(?:^|[;}])\s*import\s*(['"])([^'"]+)\1/gm,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[2] as string);
  return found;
}

const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] as string);

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function inspect(name: string) {
  const entry = manifests.get(name);
  const pack = packed.find((result) => result.name === name);
  assert.ok(entry && pack, `npm pack lists ${name}`);
  const { dir, manifest } = entry;
  const files = new Set(pack.files.map((file) => file.path));
  const read = (path: string) => readFileSync(`${root}/${dir}/${path}`, 'utf8');

  /** A relative import of `from` as the tarball path it loads (`.js` in TypeScript sources means `.ts`). */
  const resolve = (from: string, specifier: string) => {
    const path = posix.join(posix.dirname(from), specifier);
    if (files.has(path) || !from.endsWith('.ts')) return path;
    const candidates = ['.ts', '.d.ts', '.tsx'].map((extension) => path.replace(/\.js$/, extension));
    return candidates.find((candidate) => files.has(candidate)) ?? path;
  };

  /** The modules `entries` reach through relative imports, and what each of them imports. */
  const reach = (entries: string[]) => {
    const reached = new Map<string, string[]>();
    const pending = entries.map(clean).filter((path) => CODE.test(path) && files.has(path));
    for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
      if (reached.has(path)) continue;
      const specifiers = importsOf(read(path));
      reached.set(path, specifiers);
      for (const specifier of specifiers) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(path, specifier);
        if (files.has(target)) pending.push(target);
      }
    }
    return reached;
  };

  const targets = exportTargets(manifest.exports);
  const runtimeEntries = [
    ...targets.filter(({ conditions }) => !conditions.includes('types')).map(({ target }) => target),
    ...namedPaths(manifest)
      .filter(({ field }) => field === 'main' || field.startsWith('bin.'))
      .map(({ path }) => path),
  ];
  const typeEntries = [
    ...targets.filter(({ conditions }) => conditions.includes('types')).map(({ target }) => target),
    ...(manifest.types ? [manifest.types] : []),
  ];
  return { dir, manifest, files, read, reach, runtimeEntries, typeEntries, pack };
}

describe('package tarballs', () => {
  for (const { dir, browserEntries } of PACKAGES) {
    const name = [...manifests.values()].find((entry) => entry.dir === dir)?.manifest.name ?? dir;

    describe(name, () => {
      const { manifest, files, read, reach, runtimeEntries, typeEntries, pack } = inspect(name);

      it('holds every path package.json names', () => {
        const missing = namedPaths(manifest).filter(({ path }) => !files.has(clean(path)));
        assert.deepEqual(
          missing.map(({ field, path }) => `${field}: ${path}`),
          [],
          `${name}'s package.json names files its tarball lacks`,
        );
      });

      it('holds only what runs: modules an entry point reaches, their declarations and maps, data they read', () => {
        const runtime = reach(runtimeEntries);
        const types = reach([
          ...typeEntries,
          ...[...runtime.keys()].map((path) => path.replace(/\.js$/, '.d.ts')),
        ]);
        const allowed = new Set([...METADATA, ...runtime.keys(), ...types.keys()]);
        for (const path of [...runtime.keys(), ...types.keys()]) {
          if (!/\.(?:js|d\.ts)$/.test(path)) continue;
          const base = path.replace(/\.d\.ts$|\.js$/, '');
          for (const companion of ['.js', '.js.map', '.d.ts', '.d.ts.map']) allowed.add(base + companion);
        }
        for (const { path } of namedPaths(manifest)) allowed.add(clean(path));
        for (const map of [...allowed].filter((path) => path.endsWith('.map') && files.has(path))) {
          const { sources, sourceRoot = '' } = JSON.parse(read(map)) as {
            sources: string[];
            sourceRoot?: string;
          };
          for (const source of sources) allowed.add(posix.join(posix.dirname(map), sourceRoot, source));
        }
        const dataDirs = [...runtime.keys()].flatMap((path) =>
          [...read(path).matchAll(/new URL\(\s*(['"])(\.[^'"]*)\1\s*,\s*import\.meta\.url\s*\)/g)].map(
            (match) => posix.join(posix.dirname(path), match[2] as string),
          ),
        );
        const isData = (path: string) =>
          dataDirs.some((data) => path === data || path.startsWith(`${data}/`));
        const unexpected = [...files].filter((path) => !allowed.has(path) && !isData(path));
        assert.deepEqual(
          unexpected,
          [],
          `${name}'s tarball holds files nothing it exports runs or describes`,
        );
      });

      it('maps whose sources are in the tarball or carried in sourcesContent', () => {
        const unresolved: string[] = [];
        for (const path of [...files].filter((file) => file.endsWith('.map'))) {
          const map = JSON.parse(read(path)) as {
            sources: string[];
            sourceRoot?: string;
            sourcesContent?: unknown[];
          };
          map.sources.forEach((source, index) => {
            if (typeof map.sourcesContent?.[index] === 'string') return;
            const resolved = posix.join(posix.dirname(path), map.sourceRoot ?? '', source);
            if (!files.has(resolved)) unresolved.push(`${path} → ${source}`);
          });
        }
        assert.deepEqual(unresolved, [], `${name}'s source maps name sources a debugger cannot open`);
      });

      it('imports only its dependencies, peer dependencies and Node built-ins', () => {
        const declared = new Set([
          name,
          ...Object.keys(manifest.dependencies ?? {}),
          ...Object.keys(manifest.peerDependencies ?? {}),
        ]);
        const undeclared = [...files]
          .filter((path) => CODE.test(path))
          .flatMap((path) =>
            importsOf(read(path))
              .filter((specifier) => !specifier.startsWith('.') && !isBuiltin(specifier))
              .filter((specifier) => !declared.has(packageOf(specifier)))
              .filter(
                (specifier) => !(path.endsWith('.d.ts') && declared.has(`@types/${packageOf(specifier)}`)),
              )
              .map((specifier) => `${path} imports ${specifier}`),
          );
        assert.deepEqual(undeclared, [], `${name} ships imports of packages it does not depend on`);
      });

      if (browserEntries.length > 0) {
        it('loads no Node built-in from what a browser imports', () => {
          const entries = exportTargets(manifest.exports)
            .filter(({ conditions }) => browserEntries.includes(conditions[0] as never))
            .filter(({ conditions }) => !conditions.includes('types'))
            .map(({ target }) => target);
          const nodeOnly = [...reach(entries)].flatMap(([path, specifiers]) =>
            specifiers.filter(isBuiltin).map((specifier) => `${path} imports ${specifier}`),
          );
          assert.deepEqual(nodeOnly, [], `${name}'s browser entry points reach Node-only modules`);
        });
      }

      it('has a licence and the fields a registry page shows', () => {
        assert.ok(files.has('LICENSE'), `${name}'s tarball has a LICENSE file`);
        assert.ok(files.has('README.md'), `${name}'s tarball has a README.md`);
        const fields = manifest as unknown as Record<string, unknown>;
        const absent = ['license', 'repository', 'homepage', 'bugs', 'keywords', 'engines'].filter(
          (field) => fields[field] === undefined,
        );
        assert.deepEqual(absent, [], `${name}'s package.json lacks fields`);
        console.log(
          `  ${name}: ${(pack.size / 1024).toFixed(0)} KB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KB unpacked, ${files.size} files`,
        );
      });
    });
  }
});
