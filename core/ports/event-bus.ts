import type { components } from '../../generated/types/events.js';

type S = components['schemas'];

/** Each lifecycle channel and the payload `spec/events.yaml` gives it. */
export interface EventPayloads {
  'evaluation:submitted': S['SubmittedEvent'];
  'evaluation:queued': S['QueuedEvent'];
  'evaluation:provisioning': S['ProvisioningEvent'];
  'evaluation:running': S['RunningEvent'];
  'evaluation:completed': S['CompletedEvent'];
  'evaluation:failed': S['FailedEvent'];
  'evaluation:cancelled': S['CancelledEvent'];
  'evaluation:output': S['OutputEvent'];
}
/** A chunk of a running program's output; `id` is set once the bus has kept it. */
export type OutputEvent = S['OutputEvent'];
export type Channel = keyof EventPayloads;

export type EventListener = (channel: Channel, payload: unknown) => void;

/** Publishes lifecycle events and delivers every `evaluation:*` event to subscribers. */
export interface EventBus {
  /** Whether events cross processes (Redis) or stay in this one. */
  readonly kind: 'redis' | 'in-process';
  /**
   * Validates the payload against its channel's schema and publishes it; true when it went out
   * now. Never throws for a transport failure: an event Redis refuses is held, in order, and
   * published when Redis answers again (later events wait behind it); beyond the buffer's size it
   * is dropped and counted.
   */
  publish<C extends Channel>(channel: C, payload: EventPayloads[C]): Promise<boolean>;
  subscribe(listener: EventListener): () => void;
  /**
   * The output chunks kept for an evaluation (`evaluation:output`), oldest first, each with its
   * id; with `after`, only those after that id. Chunks are kept for an hour after the last.
   */
  history(evalId: string, after?: string): Promise<OutputEvent[]>;
  /** Resolves once subscribers receive events (the Redis subscription is in place). */
  subscribed(): Promise<void>;
  /** Resolves when the bus's transport answers; rejects when it does not. */
  ping(): Promise<void>;
  /** Events given up since start (the buffer was full). */
  readonly dropped: number;
  /** Events held for a retry now. */
  readonly pending: number;
  close(): Promise<void>;
}
