import { expect } from 'chai';
import { contractViolations } from './contract.js';

export interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

export interface SseStream {
  status: number;
  /** Every event received so far, its data parsed. */
  events: SseEvent[];
  /** The first event from `from` on that matches, waiting up to `ms`; null once the stream ended. */
  next(match: (e: SseEvent) => boolean, ms?: number, from?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/**
 * Opens a Server-Sent Events stream with fetch (as EventSource polyfills do) and parses its
 * frames (`event:`, `id:`, `data:`; comment lines skipped). A refusal is checked against the spec.
 */
export async function openEvents(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const r = await fetch(base + path, { headers, signal: abort.signal });
  const type = r.headers.get('content-type') ?? '';
  if (r.status !== 200) {
    const body = await r.json();
    expect(contractViolations('GET', path, r.status, type, body)).to.deep.equal([]);
    return {
      status: r.status,
      events: [body as SseEvent],
      next: () => Promise.reject(new Error(`stream refused: ${r.status}`)),
      ended: Promise.resolve(),
      close: () => undefined,
    };
  }
  expect(type).to.match(/^text\/event-stream/);
  expect(contractViolations('GET', path, 200, type, '')).to.deep.equal([]);
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let done = false;
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const piece of r.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(piece, { stream: true });
        let cut;
        while ((cut = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          const fields: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue;
            const at = line.indexOf(': ');
            fields[line.slice(0, at)] = line.slice(at + 2);
          }
          if (!fields.event) continue;
          events.push({
            event: fields.event,
            ...(fields.id ? { id: fields.id } : {}),
            data: JSON.parse(fields.data ?? 'null'),
          });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      for (const w of waiters.splice(0)) w();
    }
  })();
  return {
    status: 200,
    events,
    async next(match, ms = 15_000, from = 0) {
      const end = Date.now() + ms;
      for (;;) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (done) throw new Error(`stream ended; got ${JSON.stringify(events.slice(-5))}`);
        const left = end - Date.now();
        if (left <= 0) throw new Error(`no matching event within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    ended,
    close: () => abort.abort(),
  };
}
