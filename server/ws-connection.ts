import type { WebSocket } from 'ws';
import type { components } from '../generated/types/events.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import type { Identity } from '../core/identity.js';

type ServerMessage = components['schemas']['ServerMessage'];

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TRY_AGAIN_LATER = 1013;

const validateServer = schemaValidator('events_ServerMessage');

export class Connection {
  readonly ids = new Set<string>();
  all = false;
  alive = true;
  /** Events for ids whose snapshot is still being read; sent right after it, in order. */
  readonly held = new Map<string, { text: Buffer; outputId?: string }[]>();
  constructor(
    readonly ws: WebSocket,
    private readonly maxBuffered: number,
    /** Whose connection it is: a snapshot of another owner's evaluation is refused. */
    readonly who: Identity,
    /** Messages sent over every connection of the listener. */
    private readonly counts: { sent: number },
  ) {}

  send(text: string | Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      // Nothing more is queued; the close frame follows what is buffered, so a client that reads
      // again learns why. One that never does is dropped by ws's close timeout (30 s).
      this.ws.close(CLOSE_TRY_AGAIN_LATER, 'client too slow: send buffer full');
      return;
    }
    this.ws.send(text, { binary: false });
    this.counts.sent++;
  }

  deliver(evalId: string, text: Buffer, outputId?: string): void {
    const held = this.held.get(evalId);
    if (held) held.push({ text, outputId });
    else this.send(text);
  }
}

export function message(m: ServerMessage): string {
  if (!validateServer(m))
    throw new Error(
      `server message breaks spec/events.yaml: ${describeErrors(validateServer.errors)}`,
    );
  return JSON.stringify(m);
}
