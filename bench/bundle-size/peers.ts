/** Bundle-size benchmark: the peers, installed from npm into bench/peers (pinned) and bundled the same way as ours. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rollup } from 'rollup';
import type { Sizes } from '../lib/bundle-measure.js';
import { grouped } from '../lib/format.js';
import { stopwatch } from '../lib/report.js';
import {
  commonjs,
  firstLoad,
  nodeResolve,
  PEERS,
  PEERS_MODULES,
  replace,
  TERSER,
  terser,
  topPackages,
} from './build.js';

export interface Peer {
  key: string;
  name: string;
  /** The entry a host would write: what it imports to show the thing. */
  entry: string;
  external?: RegExp[];
}

export const PEER_LIST: Peer[] = [
  {
    key: 'novu',
    name: '@novu/js Inbox UI',
    // What a host imports to show the inbox: new NovuUI({ options }).mountComponent({ name: 'Inbox', element }).
    entry: `export { NovuUI } from '@novu/js/ui';\n`,
  },
  {
    key: 'trigger',
    name: '@trigger.dev/react-hooks useRealtimeRun',
    entry: `export { useRealtimeRun } from '@trigger.dev/react-hooks';\n`,
    external: [/^react($|\/)/, /^react-dom($|\/)/],
  },
  {
    key: 'shoelace',
    name: 'Shoelace progress-bar + alert + badge',
    // A host cherry-picking components imports each one's module, which registers it.
    entry: ['progress-bar', 'alert', 'badge']
      .map((name) => `import '@shoelace-style/shoelace/dist/components/${name}/${name}.js';\n`)
      .join(''),
  },
];

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const peerPackage = readJson(join(PEERS, 'package.json')) as { dependencies: Record<string, string> };

/** Whether bench/peers/node_modules holds exactly the pinned versions. */
function peersInstalled(): boolean {
  return Object.entries(peerPackage.dependencies).every(([name, version]) => {
    const file = join(PEERS_MODULES, name, 'package.json');
    return existsSync(file) && (readJson(file) as { version: string }).version === version;
  });
}

/** Installs the pinned peers into bench/peers unless they are there already. */
export function ensurePeers(log: (message: string) => void): void {
  if (peersInstalled()) return;
  log('installing the peers: npm ci --prefix bench/peers (pinned by bench/peers/package-lock.json)');
  const npm = spawnSync(
    'npm',
    ['ci', '--prefix', 'bench/peers', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { stdio: 'inherit', timeout: 150_000 },
  );
  if (npm.status !== 0 || !peersInstalled())
    throw new Error(`npm ci in bench/peers failed (exit ${npm.status})`);
  log('peers installed');
}

export const peerVersions = Object.entries(peerPackage.dependencies)
  .filter(([name]) => !name.startsWith('react'))
  .map(([name, version]) => `${name}@${version}`)
  .join(', ');

export interface PeerResult extends Peer {
  eager: Sizes;
  files: number;
  lazy: Sizes;
  lazyFiles: number;
  warnings: Map<string, number>;
  /** The biggest packages of the first load. */
  packages: string;
}

export async function bundlePeer(
  peer: Peer,
  peerTmp: string,
  log: (message: string) => void,
): Promise<PeerResult> {
  const time = stopwatch();
  const entry = join(peerTmp, `${peer.key}.js`);
  writeFileSync(entry, peer.entry);
  const warnings = new Map<string, number>();
  const bundle = await rollup({
    input: { [peer.key]: entry },
    external: peer.external ?? [],
    onwarn: (warning) =>
      warnings.set(warning.code ?? 'WARNING', (warnings.get(warning.code ?? 'WARNING') ?? 0) + 1),
    plugins: [
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }),
      nodeResolve({ browser: true, exportConditions: ['browser', 'default'], modulePaths: [PEERS_MODULES] }),
      commonjs(),
    ],
  });
  try {
    const { output } = await bundle.generate({ format: 'es', plugins: [terser(TERSER)] });
    const load = firstLoad(output, peer.key);
    const strays = load.modules.filter(
      (id) => !id.startsWith('\0') && id !== entry && !id.startsWith(`${PEERS_MODULES}/`),
    );
    if (strays.length > 0) {
      throw new Error(`${peer.key} resolved modules outside bench/peers: ${strays.slice(0, 3).join(', ')}`);
    }
    log(
      `peer ${peer.name}: ${grouped(load.eager.gzip)} B gzip, ${grouped(load.eager.brotli)} B brotli in ${load.files} ` +
        `file(s) on first load, ${load.lazyFiles} lazy file(s) ${grouped(load.lazy.gzip)} B gzip ` +
        `(${(time() / 1000).toFixed(1)} s)`,
    );
    return { ...peer, ...load, warnings, packages: topPackages(load.eagerChunks, 5) };
  } finally {
    await bundle.close();
  }
}
