// Benchmark 1: bundle size of the drop-in (what a page loads first, and the chunks it loads on use) and of the
// SDK alone, against peers bundled the same way in this run. Pieces in bench/bundle-size/; method and what
// limits ours: bench/notes/bundle-size.md.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import {
  DROP_IN,
  DROP_IN_GZIP_TARGET,
  dropInFiles,
  PEERS_MODULES,
  ROOT,
  SDK,
  SDK_GZIP_TARGET,
  signed,
} from './bundle-size/build.js';
import { dropInGroup, dropInPart, partsTable, sdkPart, weigh, weighFiles } from './bundle-size/parts.js';
import { bundlePeer, ensurePeers, PEER_LIST, type PeerResult, peerVersions } from './bundle-size/peers.js';
import {
  DROP_IN_TRIALS,
  floor,
  gzipDelta,
  LIT_CONTEXT_FLOOR,
  LIT_FLOOR,
  LIT_HTML_FLOOR,
  runTrials,
  SDK_TRIALS,
  type Trial,
  type TrialResult,
  trialsTable,
} from './bundle-size/trials.js';
import { type Part, sizes, sumSizes } from './lib/bundle-measure.js';
import { grouped } from './lib/format.js';
import { type Figure, figure, report, stopwatch } from './lib/report.js';
import { createTeardown } from './lib/teardown.js';

const since = stopwatch();
const startedAt = new Date().toISOString();
const log = (message: string) => console.log(`[bundle-size ${(since() / 1000).toFixed(1)} s] ${message}`);

for (const file of [DROP_IN, SDK]) {
  if (!existsSync(file) || !existsSync(`${file}.map`)) {
    throw new Error(
      `${file} (or its .map) is missing: build the browser bundles first with "npx rollup -c --silent" ` +
        '(or "npm run build") from the repository root; "npm run bench" does this.',
    );
  }
}

ensurePeers(log);

// Temporary entries: ours next to the repository's node_modules (so `lit` resolves as for our build), the
// peers' in the OS temp dir (resolved through bench/peers/node_modules only; checked below).
const cacheDir = join(ROOT, 'node_modules/.cache');
mkdirSync(cacheDir, { recursive: true });
const ourTmp = mkdtempSync(join(cacheDir, 'bundle-size-'));
const peerTmp = mkdtempSync(join(os.tmpdir(), 'jobtracker-bundle-size-'));
const teardown = createTeardown();
const removeTemporaryEntries = teardown.add(() => {
  rmSync(ourTmp, { recursive: true, force: true });
  rmSync(peerTmp, { recursive: true, force: true });
});
// A failure leaves through 'exit', where only synchronous work runs: the removal above is synchronous.
process.once('exit', () => void removeTemporaryEntries());

// ------------------------------------------------------------ our files as rollup -c wrote them

log(`measuring the drop-in (${DROP_IN} and its chunks) and ${SDK} (built by rollup -c)`);
const files = dropInFiles();
const weighed = (list: string[]) => sumSizes(list.map((file) => sizes(readFileSync(file))));
const firstPage = weighed(files.firstPage);
const everything = weighed([...files.firstPage, ...files.lazy]);
/** `chunks/job-list-<hash>.js` → `<job-list>`; a chunk shared by lazy elements keeps its name. */
const chunkLabel = (file: string) => {
  const name = basename(file).replace(/-[\w-]{8}\.js$/, '');
  return name.startsWith('job-') ? `<${name}>` : `shared chunk ${name}`;
};
const chunks = files.lazy.map((file) => ({ file, label: chunkLabel(file), ...sizes(readFileSync(file)) }));
const lazyTags = ['<job-list>', '<job-button>', '<job-provider>'];
const split = lazyTags.every((tag) => chunks.some((chunk) => chunk.label === tag));
const sdk = sizes(readFileSync(SDK));

const firstPageParts = weighFiles(files.firstPage, dropInPart);
const firstPageGroups = weighFiles(files.firstPage, dropInGroup);
const sdkParts = weigh(SDK, sdkPart);
const firstPageTitle = `First page: ${files.firstPage.map((file) => basename(file)).join(' + ')}`;
console.log(`\n${partsTable(`${firstPageTitle}, by part`, firstPageParts, firstPage)}\n`);
console.log(`${partsTable(`${firstPageTitle}, by group`, firstPageGroups, firstPage)}\n`);
for (const chunk of chunks)
  console.log(
    `${partsTable(`Chunk ${chunk.label} (${basename(chunk.file)})`, weigh(chunk.file, dropInPart), chunk)}\n`,
  );
console.log(`${partsTable('SDK alone, by module', sdkParts, sdk)}\n`);

const mirrorNotes: string[] = [];

// ------------------------------------------------------- run: our builds and the peers in two lanes
// Terser runs in worker threads, so the peers (mostly minifying) and our builds overlap on two cores.

const ourLane = async () => {
  log('trials: rebuilding the drop-in with other terser options');
  const dropInTrials = await runTrials(DROP_IN, DROP_IN_TRIALS, mirrorNotes);
  log('trials: rebuilding the SDK with other terser options');
  const sdkTrials = await runTrials(SDK, SDK_TRIALS, mirrorNotes);
  log('floors: lit alone, lit with a context consumer, lit-html alone');
  const litFloor = await floor(ourTmp, 'lit-floor', LIT_FLOOR);
  const litContextFloor = await floor(ourTmp, 'lit-context-floor', LIT_CONTEXT_FLOOR);
  const litHtmlFloor = await floor(ourTmp, 'lit-html-floor', LIT_HTML_FLOOR);
  return { dropInTrials, sdkTrials, litFloor, litContextFloor, litHtmlFloor };
};
const peerLane = async () => {
  const results: PeerResult[] = [];
  for (const peer of PEER_LIST) {
    log(`bundling peer ${peer.name}`);
    results.push(await bundlePeer(peer, peerTmp, log));
  }
  return results;
};
const [{ dropInTrials, sdkTrials, litFloor, litContextFloor, litHtmlFloor }, peerResults] = await Promise.all(
  [ourLane(), peerLane()],
);
await removeTemporaryEntries();

const peerByKey = (key: string) => {
  const result = peerResults.find((peer) => peer.key === key);
  if (!result) throw new Error(`peer ${key} not measured`);
  return result;
};
const novu = peerByKey('novu');
const trigger = peerByKey('trigger');
const shoelace = peerByKey('shoelace');
const shoelaceTheme = sizes(
  readFileSync(join(PEERS_MODULES, '@shoelace-style/shoelace/dist/themes/light.css')),
);

console.log(`\n${trialsTable('Drop-in first page, terser and template options', dropInTrials)}\n`);
console.log(`${trialsTable('SDK alone, terser options', sdkTrials)}\n`);
console.log(
  `lit floor (LitElement + css + html, one tiny element): ${grouped(litFloor.gzip)} B gzip; with a context ` +
    `consumer: ${grouped(litContextFloor.gzip)} B; lit-html render() alone: ${grouped(litHtmlFloor.gzip)} B gzip`,
);

// ---------------------------------------------------------------------------------------------- figures

const firstPageMet = firstPage.gzip <= DROP_IN_GZIP_TARGET;
const sdkMet = sdk.gzip <= SDK_GZIP_TARGET;
const SHOELACE = 'Shoelace progress-bar + alert + badge';
const NOVU = '@novu/js Inbox UI (first load)';
const TRIGGER = '@trigger.dev/react-hooks useRealtimeRun (React external)';
const FIRST_PAGE = 'first page (tracker + badge + SDK + lit + @lit/context)';
const EVERYTHING = 'drop-in, every element (entry + all chunks)';

// What bounds the first page: lit's floor, @lit/context, the SDK at its target; the rest is the two elements.
const groupAdded = (test: (name: string) => boolean) =>
  firstPageGroups.filter((p) => test(p.name)).reduce((sum, p) => sum + p.gzipMarginal, 0);
const contextFloor = litContextFloor.gzip - litFloor.gzip;
const room = DROP_IN_GZIP_TARGET - litFloor.gzip - contextFloor - SDK_GZIP_TARGET;
const sdkAdded = groupAdded((name) => name.startsWith('SDK') || name === 'nanostores');
const litAdded = groupAdded((name) => name.startsWith('LitElement') || name.startsWith('lit-html'));
const contextAdded = groupAdded((name) => name === '@lit/context');
const elementsAdded = groupAdded((name) => /^<job-|^shared by|^drop-in|^lit-html repeat/.test(name));
const withSdkAtTarget = firstPage.gzip - Math.max(0, sdk.gzip - SDK_GZIP_TARGET);
const reason =
  `lit's floor (${grouped(litFloor.gzip)} B), @lit/context (${grouped(contextFloor)} B) and the SDK at its ` +
  `${grouped(SDK_GZIP_TARGET)} B target leave ${grouped(room)} B for <job-tracker> and <job-badge>, which add ` +
  `${grouped(elementsAdded)} B with the code they share.`;

const figures: Figure[] = [
  figure(`${FIRST_PAGE}, gzip`, firstPage.gzip, 'B', {
    baseline: { name: SHOELACE, value: shoelace.eager.gzip },
    target: `≤ 12 KB gz (${grouped(DROP_IN_GZIP_TARGET)} B)`,
    met: firstPageMet,
    ...(firstPageMet ? {} : { reason }),
  }),
  figure(`${FIRST_PAGE}, brotli`, firstPage.brotli, 'B', {
    baseline: { name: SHOELACE, value: shoelace.eager.brotli },
  }),
  figure(`${EVERYTHING}, gzip`, everything.gzip, 'B', {
    baseline: { name: SHOELACE, value: shoelace.eager.gzip },
    target: '<job-list>, <job-button>, <job-provider> in chunks loaded on use',
    met: split,
  }),
  figure(`${EVERYTHING}, gzip`, everything.gzip, 'B', {
    baseline: { name: `${SHOELACE} + its themes/light.css`, value: shoelace.eager.gzip + shoelaceTheme.gzip },
  }),
  figure(`${EVERYTHING}, gzip`, everything.gzip, 'B', { baseline: { name: NOVU, value: novu.eager.gzip } }),
  figure(`${EVERYTHING}, brotli`, everything.brotli, 'B', {
    baseline: { name: SHOELACE, value: shoelace.eager.brotli },
  }),
  figure(`${EVERYTHING}, brotli`, everything.brotli, 'B', {
    baseline: { name: NOVU, value: novu.eager.brotli },
  }),
  ...chunks.flatMap((chunk) => [
    figure(`chunk ${chunk.label}, gzip`, chunk.gzip, 'B'),
    figure(`chunk ${chunk.label}, brotli`, chunk.brotli, 'B'),
  ]),
  figure('SDK alone, gzip', sdk.gzip, 'B', {
    baseline: { name: TRIGGER, value: trigger.eager.gzip },
    target: `≤ 4 KB gz (${grouped(SDK_GZIP_TARGET)} B)`,
    met: sdkMet,
  }),
  figure('SDK alone, brotli', sdk.brotli, 'B', { baseline: { name: TRIGGER, value: trigger.eager.brotli } }),
];

// ---------------------------------------------------------------------------------------------- words

const added = (parts: Part[], test: (name: string) => boolean) =>
  parts.filter((p) => test(p.name)).reduce((sum, p) => sum + p.gzipMarginal, 0);
const list = (parts: Part[]) =>
  parts
    .filter((p) => p.gzipMarginal >= 60)
    .map((p) => `${p.name} ${grouped(p.gzipMarginal)}`)
    .join(', ');
const trialList = (trials: TrialResult[]) =>
  trials
    .slice(1)
    .map((t) => (t.sizes ? `${t.name} ${signed(gzipDelta(trials, t))} B` : `${t.name}: failed`))
    .join('; ');
/** The most gzip bytes a safe trial saves: the terser ones, and the html`` template one. */
const bestSaving = (test: (trial: Trial) => boolean) =>
  0 -
  Math.min(
    0,
    ...DROP_IN_TRIALS.map((trial, index) => ({ trial, result: dropInTrials[index] }))
      .filter(({ trial }) => !/UNSAFE|riskier/.test(trial.name) && test(trial))
      .map(({ result }) => (result ? gzipDelta(dropInTrials, result) : Number.NaN))
      .filter(Number.isFinite),
  );
const terserSaving = bestSaving((trial) => !trial.transform);
const templateSaving = bestSaving((trial) => Boolean(trial.transform));
const warningsOf = (peer: PeerResult) =>
  [...peer.warnings].map(([code, count]) => `${code} ×${count}`).join(', ') || 'none';
const sdkOptional = [
  'sdk client/announcer.ts',
  'sdk tabs/tabs.ts',
  'sdk auth/token.ts',
  'sdk persist/storage.ts',
];
const sdkOptionalAdded = added(sdkParts, (name) => sdkOptional.includes(name));
const sdkCoreAdded = added(sdkParts, (name) => /client\/client\.ts|transport\/connection\.ts/.test(name));
const chunkList = chunks
  .map((chunk) => `${chunk.label} ${grouped(chunk.gzip)} B gzip (${grouped(chunk.brotli)} B brotli)`)
  .join(', ');

const explanation = [
  `A page that uses the drop-in first loads ${files.firstPage.map((file) => basename(file)).join(' + ')} ` +
    `(${grouped(firstPage.min)} B minified): <job-tracker>, <job-badge>, the SDK, lit, @lit/context and nanostores.`,
  `<job-list>, <job-button> and <job-provider> come from chunks beside it when the page has one: ${chunkList}.`,
  `The SDK alone is the data layer. Peers: ${peerVersions}.`,
  `What limits the first page (gzip bytes each group adds): lit ${grouped(litAdded)} B (one tiny lit element weighs`,
  `${grouped(litFloor.gzip)} B on its own), the SDK with nanostores ${grouped(sdkAdded)} B, @lit/context`,
  `${grouped(contextAdded)} B, the two elements with the code they share ${grouped(elementsAdded)} B. The best safe`,
  `terser option saves ${grouped(terserSaving)} B, collapsing the indentation of html\`\` templates ${grouped(templateSaving)} B.`,
].join('\n');

const notes: string[] = [];
notes.push(`First page, gzip bytes each group adds: ${list(firstPageGroups)}.`);
notes.push(`First page, by part: ${list(firstPageParts)}.`);
if (!firstPageMet) {
  notes.push(
    `First page misses ≤ ${grouped(DROP_IN_GZIP_TARGET)} B gzip by ${grouped(firstPage.gzip - DROP_IN_GZIP_TARGET)} B. ` +
      `The floor, measured: one tiny LitElement ${grouped(litFloor.gzip)} B gzip, the same with a context consumer ` +
      `${grouped(litContextFloor.gzip)} B (@lit/context ${grouped(contextFloor)} B), the SDK at its ` +
      `${grouped(SDK_GZIP_TARGET)} B target: ${grouped(litContextFloor.gzip + SDK_GZIP_TARGET)} B before any of our ` +
      `element code, which leaves ${grouped(room)} B for <job-tracker> and <job-badge>; they add ` +
      `${grouped(elementsAdded)} B now (the tracker's panel, cards, toasts, live regions and controllers, the badge, ` +
      `the shared card view, messages and styles, the keyed-list directive, the lazy definitions). With the SDK at ` +
      `its target and nothing else changed, the first page would be about ${grouped(withSdkAtTarget)} B gzip. ` +
      `lit-html's render() alone weighs ${grouped(litHtmlFloor.gzip)} B ` +
      `(${grouped(litFloor.gzip - litHtmlFloor.gzip)} B under LitElement), but lit stays the project's stack.`,
  );
}
if (!sdkMet) {
  notes.push(
    `SDK alone misses ≤ ${grouped(SDK_GZIP_TARGET)} B gzip by ${grouped(sdk.gzip - SDK_GZIP_TARGET)} B. ` +
      `Gzip bytes each module adds: ${list(sdkParts)}. The client and its connection (SSE + polling) add ` +
      `${grouped(sdkCoreAdded)} B; the announcer, cross-tab sharing, token claims and storage together ` +
      `${grouped(sdkOptionalAdded)} B, so making those opt-in closes at most that much of the gap; the rest has to ` +
      'come out of client.ts and connection.ts.',
  );
}
notes.push(
  `Options on the drop-in's first page (temporary builds, Δ gzip vs rollup.config.js as is): ${trialList(dropInTrials)}.`,
);
notes.push(`On the SDK alone: ${trialList(sdkTrials)}.`);
notes.push(
  `Peers: the Novu Inbox has ${novu.lazyFiles} more lazy file(s) (${grouped(novu.lazy.gzip)} B gzip) and ` +
    `useRealtimeRun ${trigger.lazyFiles} (${grouped(trigger.lazy.gzip)} B gzip), not counted; Shoelace's ` +
    `themes/light.css, which its components need, is ${grouped(shoelaceTheme.gzip)} B gzip (${grouped(shoelaceTheme.brotli)} ` +
    'B brotli) as shipped. Biggest packages of each first load (share of the pre-minification code): ' +
    `Novu ${novu.packages}; useRealtimeRun ${trigger.packages}; Shoelace ${shoelace.packages}. ` +
    'NovuUI keeps every Novu component (mountComponent picks one by name at run time). ' +
    'Each peer bundled as is: no stubs were needed (Novu inlines its CSS as a string). ' +
    `Rollup warnings: Novu ${warningsOf(novu)}; trigger.dev ${warningsOf(trigger)} (MODULE_LEVEL_DIRECTIVE: its ` +
    `"use client" lines, which bundlers drop); Shoelace ${warningsOf(shoelace)}.`,
);
notes.push(...mirrorNotes);

report({
  bench: 'bundle-size',
  title:
    'Bundle size: the drop-in (first page and lazy chunks) and the SDK alone vs peers bundled the same way',
  startedAt,
  durationMs: since(),
  params: {
    compression: 'gzip -9, brotli 11',
    bundler: 'rollup 4 + terser, rollup.config.js options',
    'first page min B': firstPage.min,
    'every element min B': everything.min,
    'SDK min B': sdk.min,
    'Shoelace trio min B': shoelace.eager.min,
    'Novu Inbox min B': novu.eager.min,
    'useRealtimeRun min B': trigger.eager.min,
    peers: peerVersions,
  },
  figures,
  explanation,
  notes,
});
