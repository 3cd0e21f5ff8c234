import type { Job } from '@jobtracker/sdk';
import { type IsolationClient, parseSse } from './client.js';
import { ATTACKER_TOKENS, ATTACKERS, BOB, TAG } from './users.js';

// The barrage's requests: B's ids and their mutations on get, cancel, retry and dismiss; lists with every
// filter and B's cursors; streams and replays from B's cursors. And how each answer is judged.

export type Probe =
  | { kind: 'id'; method: 'GET' | 'POST'; path: string; body?: unknown }
  | { kind: 'list'; path: string }
  | { kind: 'stream'; path: string; headers: Record<string, string> };

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
const other = (char: string) => alphabet[(alphabet.indexOf(char) + 1 + Math.floor(Math.random() * 35)) % 36];
const mutations = (id: string): string[] => {
  const at = Math.floor(Math.random() * id.length);
  return [
    id,
    `${id}?as=${encodeURIComponent(BOB)}`,
    encodeURIComponent(id).replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`),
    id.toUpperCase(),
    `${id.slice(0, at)}${other(id[at] as string)}${id.slice(at + 1)}`,
    `${id}a`,
    id.slice(0, -1),
    `%20${id}`,
    `${id}%00`,
    `${id}/`,
    `..%2F${id}`,
    `${id.slice(0, 13)}%0a${id.slice(13)}`,
  ];
};
const filters = (cursors: string[]): string[] => {
  const types = ['iso.report', 'iso.export', 'iso.live', 'iso.build', 'iso.sync', `iso.bonly.${TAG}`];
  const scopes = ['project-1', 'project-2', `b-only-${TAG}`];
  const statuses = [
    'pending',
    'running',
    'completed',
    'failed',
    'cancelled',
    'active',
    'finished',
    'pending,running,completed,failed,cancelled',
  ];
  const huge = '9999999999999999';
  const sinces = ['0', '1', huge, ...cursors, ...cursors.map((c) => String(Number(c) - 1))];
  return [
    '',
    '?limit=1',
    '?limit=200',
    ...types.map((type) => `?type=${type}`),
    ...scopes.map((scope) => `?scope=${scope}`),
    ...types.flatMap((type) => scopes.map((scope) => `?type=${type}&scope=${scope}&limit=200`)),
    ...statuses.map((status) => `?status=${status}`),
    ...statuses.map((status) => `?status=${status}&type=iso.report&scope=project-1`),
    ...sinces.map((since) => `?since=${since}`),
    ...sinces.slice(0, 8).map((since) => `?since=${since}&type=iso.live&scope=project-2`),
    ...sinces.slice(0, 8).map((since) => `?since=${since}&scope=b-only-${TAG}`),
  ];
};

/** One round of probes on `bobIds`, replaying from B's `cursors`, in random order. */
export const roundOfProbes = (bobIds: readonly string[], cursors: string[]): Probe[] => {
  // The first and latest cursors, and a spread between them.
  const picked = [
    ...new Set([...cursors.slice(0, 10), ...cursors.slice(-10), ...cursors.filter((_, i) => i % 7 === 0)]),
  ];
  const probes: Probe[] = [];
  for (const id of bobIds) {
    for (const variant of mutations(id)) {
      probes.push({ kind: 'id', method: 'GET', path: `/api/jobs/${variant}` });
      probes.push({ kind: 'id', method: 'POST', path: `/api/jobs/${variant}/cancel` });
      probes.push({ kind: 'id', method: 'POST', path: `/api/jobs/${variant}/retry`, body: {} });
      probes.push({ kind: 'id', method: 'POST', path: `/api/jobs/${variant}/dismiss` });
      probes.push({
        kind: 'id',
        method: 'POST',
        path: `/api/jobs/${variant}/dismiss`,
        body: { dismissed: false },
      });
    }
  }
  for (const query of filters(picked)) probes.push({ kind: 'list', path: `/api/jobs${query}` });
  probes.push({ kind: 'stream', path: '/api/jobs/stream', headers: {} });
  for (const cursor of [...picked, '0', '1', '9999999999999999']) {
    probes.push({ kind: 'stream', path: '/api/jobs/stream', headers: { 'Last-Event-ID': cursor } });
    probes.push({ kind: 'stream', path: `/api/jobs/stream?since=${cursor}`, headers: {} });
  }
  probes.push({
    kind: 'stream',
    path: '/api/jobs/stream?since=0',
    headers: { 'Last-Event-ID': picked[0] as string },
  });
  return probes.sort(() => Math.random() - 0.5);
};

/** What the barrage counts, and what it found wrong. */
export interface Tally {
  counts: {
    requests: number;
    idProbes: number;
    notFound: number;
    lists: number;
    streams: number;
    leaks: number;
  };
  problem(what: string): void;
}

/**
 * Judges one probe sent as an attacker: a request on B's ids answers 404 with the JSON error body, and
 * no answer carries B's data (`leaked`) or another user's jobs than the attacker's own (`own`).
 */
export function probeChecker(
  client: IsolationClient,
  own: ReadonlyMap<string, Set<string>>,
  leaked: (raw: string) => boolean,
  { counts, problem }: Tally,
) {
  const { send, readUntilReady } = client;
  return async (probe: Probe, attacker: number) => {
    const bearer = ATTACKER_TOKENS[attacker] as string;
    const who = JSON.stringify(ATTACKERS[attacker]);
    const mine = own.get(bearer) as Set<string>;
    counts.requests++;
    if (probe.kind === 'id') {
      counts.idProbes++;
      const answer = await send(probe.method, probe.path, bearer, probe.body);
      let body: { error?: { code?: unknown; message?: unknown } } | null = null;
      try {
        body = JSON.parse(answer.text);
      } catch {
        // reported below
      }
      // A variant whose tail became a query string (`<id>?as=…/cancel`) POSTs to `/jobs/:id`: 405 from
      // the route table, before any job is looked up, the same for every id.
      const refused =
        (answer.status === 404 && body?.error?.code === 'not_found') ||
        (answer.status === 405 && body?.error?.code === 'method_not_allowed');
      const ok =
        refused &&
        answer.contentType.startsWith('application/json') &&
        typeof body?.error?.message === 'string' &&
        !answer.text.includes('stack');
      if (ok) counts.notFound++;
      else problem(`${who} ${probe.method} ${probe.path} → ${answer.status} ${answer.text.slice(0, 300)}`);
      // A "no route" answer names the path the caller sent; that is not B's data.
      const message = String(body?.error?.message ?? '');
      const scrubbed = message.startsWith('No route for ') ? answer.text.replace(message, '') : answer.text;
      if (leaked(scrubbed)) {
        counts.leaks++;
        problem(`LEAK ${who} ${probe.method} ${probe.path}: ${answer.text.slice(0, 300)}`);
      }
      return;
    }
    if (probe.kind === 'list') {
      counts.lists++;
      const answer = await send('GET', probe.path, bearer);
      if (leaked(answer.text)) {
        counts.leaks++;
        problem(`LEAK ${who} GET ${probe.path}: ${answer.text.slice(0, 300)}`);
      }
      if (answer.status !== 200) {
        problem(`${who} GET ${probe.path} → ${answer.status} ${answer.text.slice(0, 200)}`);
        return;
      }
      const body = JSON.parse(answer.text) as { jobs: Job[]; progress?: { id: string }[]; cursor: string };
      const foreign = [...body.jobs, ...(body.progress ?? [])].filter((job) => !mine.has(job.id));
      if (foreign.length > 0) {
        counts.leaks++;
        problem(`LEAK ${who} GET ${probe.path}: foreign jobs ${JSON.stringify(foreign).slice(0, 300)}`);
      }
      return;
    }
    counts.streams++;
    const answer = await readUntilReady(probe.path, bearer, probe.headers);
    if (leaked(answer.text)) {
      counts.leaks++;
      problem(
        `LEAK ${who} stream ${probe.path} ${JSON.stringify(probe.headers)}: ${answer.text.slice(0, 300)}`,
      );
    }
    if (answer.status !== 200 || !answer.ready) {
      problem(`${who} stream ${probe.path} ${JSON.stringify(probe.headers)} → ${answer.status}, no ready`);
      return;
    }
    for (const event of parseSse(answer.text)) {
      const data = JSON.parse(event.data);
      // A `progress` event is a delta: it names its job by `id` too.
      const jobs: Pick<Job, 'id'>[] =
        event.event === 'job' || event.event === 'progress' ? [data] : (data.jobs ?? []);
      const foreign = jobs.filter((job) => !mine.has(job.id));
      if (foreign.length > 0) {
        counts.leaks++;
        problem(`LEAK ${who} stream ${probe.path}: foreign jobs ${JSON.stringify(foreign).slice(0, 300)}`);
      }
    }
  };
}
