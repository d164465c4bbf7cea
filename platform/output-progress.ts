import type { EventBus } from '../clients/event-bus.js';
import type { StorageService } from '../clients/storage-service.js';
import type { TraceContext } from '../lib/trace.js';
import type { LocalExecutor } from './local-executor.js';

/** How often a running evaluation's output so far is written to storage (when it grew). */
export const PROGRESS_MS = 1000;
/** How often new output is published as chunks on `evaluation:output`. */
export const CHUNK_MS = 100;
/** The most characters one chunk carries (spec/events.yaml's OutputEvent). */
export const CHUNK_CHARS = 65_536;

type Printed = { output: string; error: string };
type Stream = 'stdout' | 'stderr';

/**
 * Cuts a stream's text as it grows into chunks, each sent once: `sent` characters are out, at
 * `offset` UTF-8 bytes. A trailing U+FFFD may be the start of a character whose other bytes have
 * not come yet, so it waits for the next round (or the end).
 */
class Cutter {
  private sent = 0;
  private offset = 0;
  constructor(readonly stream: Stream) {}

  take(text: string, final: boolean): { data: string; offset: number }[] {
    let end = text.length;
    if (!final) while (end > this.sent && text.charCodeAt(end - 1) === 0xfffd) end--;
    const chunks: { data: string; offset: number }[] = [];
    while (this.sent < end) {
      let cut = Math.min(end, this.sent + CHUNK_CHARS);
      // Never between the two halves of a surrogate pair.
      if (cut < end && /[\uD800-\uDBFF]/.test(text[cut - 1]!)) cut--;
      const data = text.slice(this.sent, cut);
      chunks.push({ data, offset: this.offset });
      this.sent = cut;
      this.offset += Buffer.byteLength(data);
    }
    return chunks;
  }
}

/**
 * Follows a running evaluation's output: publishes what is new as `evaluation:output` chunks
 * every `chunkMs` (the bus keeps them for followers who resume), and writes the output so far
 * to storage every `progressMs` while it grows, so that a status read shows it. Returns the stop:
 * given what the run printed in the end, it publishes the rest, so that the last chunk goes out
 * before the evaluation's end is announced. A storage write that fails (storage away, the
 * evaluation cancelled meanwhile) is left for the next round or the final write.
 */
export function followOutput(
  storage: StorageService,
  events: EventBus,
  executor: LocalExecutor,
  evalId: string,
  trace: TraceContext | undefined,
  ms = { chunkMs: CHUNK_MS, progressMs: PROGRESS_MS },
): (last: Printed) => Promise<void> {
  let written: Printed = { output: '', error: '' };
  let writing = false;
  const cutters = [new Cutter('stdout'), new Cutter('stderr')];
  // Chunks go out one after another, in order.
  let publishing: Promise<unknown> = Promise.resolve();
  const publish = (now: Printed, final: boolean): Promise<unknown> =>
    (publishing = publishing
      .then(async () => {
        for (const c of cutters)
          for (const chunk of c.take(c.stream === 'stdout' ? now.output : now.error, final))
            await events.publish('evaluation:output', {
              eval_id: evalId,
              stream: c.stream,
              ...chunk,
            });
      })
      .catch(() => undefined));

  const chunks = setInterval(() => {
    const now = executor.logs(evalId);
    if (now) void publish(now, false);
  }, ms.chunkMs);
  const progress = setInterval(() => {
    const now = executor.logs(evalId);
    if (writing || !now || (now.output === written.output && now.error === written.error)) return;
    writing = true;
    storage
      .update(evalId, now, trace)
      .then(() => (written = now))
      .catch(() => undefined)
      .finally(() => (writing = false));
  }, ms.progressMs);
  chunks.unref();
  progress.unref();
  return (last) => {
    clearInterval(chunks);
    clearInterval(progress);
    return publish(last, true).then(() => undefined);
  };
}
