/** One server-sent event. `id` is undefined when the event set none. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental parser of the `text/event-stream` format: feed it decoded text in chunks of any size;
 * it calls `onMessage` for each complete event and ignores comments and unknown fields.
 */
export function createSseParser(onMessage: (message: SseMessage) => void) {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  /** The last chunk ended in CR: a LF that starts the next one belongs to it. */
  let cr = false;
  return (chunk: string) => {
    const text = cr && chunk[0] === '\n' ? chunk.slice(1) : chunk;
    cr = text.endsWith('\r');
    const lines = (buffer + text).split(/\r\n?|\n/);
    buffer = lines.pop() as string;
    for (const line of lines) {
      if (!line) {
        if (data.length) onMessage({ event: event || 'message', data: data.join('\n'), id });
        event = '';
        data = [];
        id = undefined;
      } else if (line[0] !== ':') {
        // The field up to the first colon; the value after it, less one leading space.
        const [, field, value] = /([^:]*):? ?(.*)/s.exec(line) as unknown as [string, string, string];
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  };
}
