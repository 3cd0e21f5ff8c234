import type { StreamEventName, StreamSnapshot } from '@jobtracker/sdk/wire';
import type { Snapshot } from '../engine/engine.js';
import { oncePerObject } from '../util/once-per-object.js';
import { isStreamDelta, streamDeltaJson } from './deltas.js';
import type { LiveEvent } from './hub.js';

const LINE_SEPARATOR = /[\u0085\u2028\u2029]/;
const LINE_SEPARATORS = /[\u0085\u2028\u2029]/g;

/**
 * JSON text with U+0085, U+2028 and U+2029 written as `\u` escapes. They are valid raw in JSON strings
 * and in SSE, but clients that split a stream into lines with the Unicode rules (Python's `splitlines`)
 * would cut an event there. In JSON they can only stand inside strings, where the escape means the same.
 */
export function escapeLineSeparators(json: string): string {
  if (!LINE_SEPARATOR.test(json)) return json;
  return json.replace(LINE_SEPARATORS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One SSE event as text: `json` is the data, already JSON text. */
export const frameText = (name: StreamEventName, cursor: number, json: string) =>
  `id: ${cursor}\nevent: ${name}\ndata: ${escapeLineSeparators(json)}\n\n`;

/** UTF-8 bytes of a frame (what `TextEncoder` and node's `response.write(text)` produce). */
export const encodeFrame = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** The comment a stream gets when nothing else was written to it for a while. */
export const HEARTBEAT_FRAME = encodeFrame(': heartbeat\n\n');

/** What every stream starts with: the reconnection delay, and a comment that flushes proxies. */
export const preambleFrame = (retryMs: number) => encodeFrame(`retry: ${retryMs}\n: jobtracker stream\n\n`);

/** `ready`: the client is current at `cursor`. */
export const readyFrame = (cursor: number) =>
  encodeFrame(frameText('ready', cursor, `{"cursor":"${cursor}"}`));

export function snapshotFrame(name: 'snapshot' | 'reset', snapshot: Snapshot): Uint8Array {
  const body: StreamSnapshot = { jobs: snapshot.jobs, cursor: String(snapshot.cursor) };
  return encodeFrame(frameText(name, snapshot.cursor, JSON.stringify(body)));
}

/**
 * An event's frame, built and encoded once however many of the owner's streams it goes to: the hub hands
 * the same event object to every subscriber, so the bytes are kept beside it. Nothing writes into the
 * bytes; every stream queues the same buffer. A progress report is a `progress` frame holding what it
 * changed (on top of `version - 1`); any other change is a `job` frame holding the whole job.
 */
export const eventFrame = oncePerObject((event: LiveEvent) =>
  isStreamDelta(event)
    ? encodeFrame(frameText('progress', event.cursor, streamDeltaJson(event)))
    : encodeFrame(frameText('job', event.cursor, event.data)),
);
