import { isAfter, isTerminal, stateOfEvent } from '../core/lifecycle.js';
import type { Channel, OutputEvent } from '../core/ports/event-bus.js';
import type { Identity } from '../core/identity.js';
import type { ReplyStream } from '../lib/http/reply-stream.js';
import { fromRecord, lookup } from './evaluation-lookup.js';
import type { Deps, Handler } from './types.js';
import { statusView } from './views.js';

/** A comment line this often keeps proxies from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000;
/**
 * Events held for a client reading slower than they come; past this the stream ends, and the
 * client resumes with Last-Event-ID (nothing is lost, the chunks are kept by the bus).
 */
export const MAX_HELD = 1000;

const frame = (event: string, data: unknown, id?: string): string =>
  `event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

const outputFrame = (c: OutputEvent): string =>
  frame('output', { stream: c.stream, data: c.data, offset: c.offset }, c.id);

/**
 * One client's stream of one evaluation: frames ready to send, then bus events turned into
 * frames as they come. Output chunks at or before the last id sent are dropped, so the replay
 * from the bus's history and the live chunks that overlap it are sent once.
 */
class EvaluationEvents implements ReplyStream {
  private readonly ready: string[] = [];
  private readonly incoming: { channel: Channel; payload: unknown }[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private ended = false;
  private lastId: string | undefined;
  private unsubscribe: () => void;

  constructor(
    private readonly deps: Deps,
    private readonly evalId: string,
    private readonly who: Identity,
  ) {
    this.unsubscribe = deps.events.subscribe((channel, payload) => {
      if ((payload as { eval_id?: string }).eval_id !== evalId || this.closed) return;
      if (this.incoming.length >= MAX_HELD) return this.close();
      this.incoming.push({ channel, payload });
      this.wake?.();
    });
  }

  /** The opening: the status now, the chunks kept after `after`, and `end` if it has ended. */
  async open(after: string | undefined): Promise<void> {
    await this.deps.events.subscribed();
    const view = await this.read();
    this.ready.push(frame('status', view));
    this.lastId = after;
    this.take(await this.deps.events.history(this.evalId, after));
    if (isTerminal(view.status)) this.finish(view);
  }

  private async read(): Promise<ReturnType<typeof statusView>> {
    const { stored, record } = await lookup(this.deps, this.evalId, this.who, undefined);
    return statusView(stored ?? fromRecord(record!));
  }

  private take(chunks: OutputEvent[]): void {
    for (const c of chunks) {
      if (!c.id || (this.lastId && !isAfter(c.id, this.lastId))) continue;
      this.ready.push(outputFrame(c));
      this.lastId = c.id;
    }
  }

  private finish(view: unknown): void {
    this.ready.push(frame('end', view));
    this.ended = true;
  }

  private async drain(): Promise<void> {
    while (this.incoming.length && !this.ended) {
      const { channel, payload } = this.incoming.shift()!;
      if (channel === 'evaluation:output') {
        this.take([payload as OutputEvent]);
        continue;
      }
      const status = stateOfEvent(channel, payload as { status?: string });
      if (!status) continue;
      if (!isTerminal(status)) this.ready.push(frame('status', { eval_id: this.evalId, status }));
      // The finished record, as storage has it once the end is announced.
      else this.finish(await this.read().catch(() => ({ eval_id: this.evalId, status })));
    }
  }

  async next(): Promise<string | null> {
    for (;;) {
      if (this.closed) return null;
      const piece = this.ready.shift();
      if (piece !== undefined) return piece;
      if (this.ended) return null;
      if (this.incoming.length) {
        await this.drain();
        continue;
      }
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), KEEP_ALIVE_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!woken && !this.closed) return ': keep-alive\n\n';
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.wake?.();
  }
}

/**
 * `GET /api/eval/{eval_id}/events`: Server-Sent Events. The bus subscription begins before the
 * first read, so nothing between the opening and the live events is missed.
 */
export function streamEvaluationEvents(deps: Deps): Handler<'streamEvaluationEvents'> {
  return async ({ params, identity, headers }) => {
    const stream = new EvaluationEvents(deps, params.eval_id, identity);
    try {
      const last = headers['last-event-id'];
      await stream.open(typeof last === 'string' ? last : undefined);
    } catch (err) {
      stream.close();
      throw err;
    }
    return { status: 200, contentType: 'text/event-stream', body: stream };
  };
}
