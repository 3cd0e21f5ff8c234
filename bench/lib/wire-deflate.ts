import { constants, createDeflateRaw, type DeflateRaw } from 'node:zlib';

export interface DeflateEstimate {
  /** Bytes per event after per-stream deflate with a sync flush after each event. */
  bytesPerEvent: number;
  /** Resident memory one such compressor holds, measured over `compressors` of them. */
  rssPerCompressorBytes: number;
  windowBits: number;
  memLevel: number;
}

const flush = (stream: DeflateRaw) =>
  new Promise<void>((resolve) => stream.flush(constants.Z_SYNC_FLUSH, () => resolve()));

/**
 * What per-stream compression would do to the given SSE frames: the bytes each costs once compressed by a
 * deflate stream whose window spans earlier events (the way `Content-Encoding: gzip` with a flush per event
 * would send them), and the memory such a compressor holds per open stream. Small windows keep the memory
 * down; the frames repeat most of the previous frame, so they still compress.
 */
export async function estimateDeflate(
  frames: readonly string[],
  { windowBits = 10, memLevel = 2, compressors = 2000 } = {},
): Promise<DeflateEstimate> {
  const stream = createDeflateRaw({ windowBits, memLevel, chunkSize: 1024 });
  let out = 0;
  stream.on('data', (chunk: Buffer) => {
    out += chunk.length;
  });
  for (const frame of frames) {
    stream.write(frame);
    await flush(stream);
  }
  stream.destroy();

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().rss;
  const held: DeflateRaw[] = [];
  for (let i = 0; i < compressors; i++) {
    const each = createDeflateRaw({ windowBits, memLevel, chunkSize: 1024 });
    each.on('data', () => {});
    each.write(frames[i % frames.length] ?? '');
    held.push(each);
  }
  await Promise.all(held.map(flush));
  gc?.();
  const rssPerCompressorBytes = (process.memoryUsage().rss - before) / compressors;
  for (const each of held) each.destroy();
  return { bytesPerEvent: out / Math.max(1, frames.length), rssPerCompressorBytes, windowBits, memLevel };
}
