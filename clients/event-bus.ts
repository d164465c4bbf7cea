import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { SchemaName } from '../generated/validators/schema-names.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import type { Logger } from '../lib/logger.js';
import { FIRST_CONNECT_WAIT_MS, firstConnect } from '../lib/redis.js';
import type { Channel, EventBus, OutputEvent } from '../core/ports/event-bus.js';
import { memoryOutputHistory, redisOutputHistory } from './output-history.js';
export type {
  Channel,
  EventBus,
  EventListener,
  EventPayloads,
  OutputEvent,
} from '../core/ports/event-bus.js';

const SCHEMA: Record<Channel, SchemaName> = {
  'evaluation:submitted': 'events_SubmittedEvent',
  'evaluation:queued': 'events_QueuedEvent',
  'evaluation:provisioning': 'events_ProvisioningEvent',
  'evaluation:running': 'events_RunningEvent',
  'evaluation:completed': 'events_CompletedEvent',
  'evaluation:failed': 'events_FailedEvent',
  'evaluation:cancelled': 'events_CancelledEvent',
  'evaluation:output': 'events_OutputEvent',
};

function assertPayload(channel: Channel, payload: unknown): void {
  const validate = schemaValidator(SCHEMA[channel]);
  if (!validate(payload)) {
    // A payload outside the contract is a bug of the gateway, not a transport failure.
    throw new Error(
      `${channel} payload breaks spec/events.yaml: ${describeErrors(validate.errors)}`,
    );
  }
}

const isChannel = (c: string): c is Channel => c in SCHEMA;

export function createInProcessEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const output = memoryOutputHistory();
  return {
    kind: 'in-process',
    dropped: 0,
    pending: 0,
    publish(channel, payload) {
      assertPayload(channel, payload);
      const kept = channel === 'evaluation:output' ? output.keep(payload as OutputEvent) : payload;
      emitter.emit('event', channel, kept);
      return Promise.resolve(true);
    },
    history: (evalId, after) => Promise.resolve(output.since(evalId, after)),
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    subscribed: () => Promise.resolve(),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Held events flushed at most this many at a time. */
const FLUSH_BATCH = 500;
const RETRY_MS = 500;

/**
 * Redis pub/sub: one connection publishes, one subscribes to `evaluation:*`. Events Redis
 * refuses wait in a buffer of `bufferSize`, in order, and go out when it answers again.
 */
export function createRedisEventBus(url: string, logger: Logger, bufferSize = 10_000): EventBus {
  // No offline queue: while Redis is down a publish fails at once instead of waiting.
  // Auto-pipelining sends the publishes of concurrent requests in one write: a submit publishes
  // twice, and one write a command cost about a seventh of the submit path's CPU.
  const pub = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    enableAutoPipelining: true,
  });
  pub.on('error', (err: Error) => logger.debug({ err }, 'redis publisher error'));
  const output = redisOutputHistory(pub);
  // An output chunk is kept (for followers who resume) and published in one step.
  const send = (channel: Channel, message: string, evalId: string): Promise<unknown> =>
    channel === 'evaluation:output' ? output.keep(evalId, message) : pub.publish(channel, message);
  let sub: Redis | undefined;
  let subscription: Promise<void> = Promise.resolve();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let dropped = 0;
  const held: { channel: Channel; message: string; evalId: string }[] = [];
  let flushing: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connected = (): Promise<void> => firstConnect(pub, FIRST_CONNECT_WAIT_MS);

  const flush = (): Promise<void> =>
    (flushing ??= (async () => {
      while (held.length) {
        const batch = held.slice(0, FLUSH_BATCH);
        const sent = await Promise.allSettled(
          batch.map((e) => connected().then(() => send(e.channel, e.message, e.evalId))),
        );
        // What went out leaves the buffer; what did not keeps its place for the next try.
        const kept = batch.filter((_, i) => sent[i]!.status === 'rejected');
        held.splice(0, batch.length, ...kept);
        if (kept.length) {
          retry ??= setTimeout(() => {
            retry = undefined;
            void flush();
          }, RETRY_MS);
          retry.unref();
          return;
        }
      }
    })().finally(() => (flushing = undefined)));
  pub.on('ready', () => void flush());

  const hold = (channel: Channel, message: string, evalId: string): void => {
    if (held.length >= bufferSize) {
      dropped++;
      logger.error({ channel, eval_id: evalId }, 'event dropped: the retry buffer is full');
      return;
    }
    held.push({ channel, message, evalId });
    if (held.length === 1) void flush();
  };

  const ensureSubscriber = (): void => {
    if (sub) return;
    sub = new Redis(url, { maxRetriesPerRequest: null });
    sub.on('error', (err: Error) => logger.debug({ err }, 'redis subscriber error'));
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (!isChannel(channel)) return;
      try {
        emitter.emit('event', channel, JSON.parse(message));
      } catch (err) {
        logger.warn({ err, channel }, 'ignored an event that is not JSON');
      }
    });
    subscription = sub.psubscribe('evaluation:*').then(
      () => undefined,
      (err: unknown) => logger.warn({ err }, 'could not subscribe to evaluation:*'),
    );
  };

  return {
    kind: 'redis',
    get dropped() {
      return dropped;
    },
    get pending() {
      return held.length;
    },
    async publish(channel, payload) {
      assertPayload(channel, payload);
      const message = JSON.stringify(payload);
      // Behind held events, so that subscribers see each evaluation's events in order.
      if (held.length) {
        hold(channel, message, payload.eval_id);
        return false;
      }
      try {
        await connected();
        await send(channel, message, payload.eval_id);
        return true;
      } catch (err) {
        logger.warn({ err, channel, eval_id: payload.eval_id }, 'event held for a retry');
        hold(channel, message, payload.eval_id);
        return false;
      }
    },
    subscribe(listener) {
      ensureSubscriber();
      emitter.on('event', listener);
      return () => {
        emitter.off('event', listener);
        // Nobody listens any more: stop receiving (and parsing) every event of the platform.
        if (emitter.listenerCount('event') === 0 && sub) {
          sub.disconnect();
          sub = undefined;
          subscription = Promise.resolve();
        }
      };
    },
    subscribed: () => subscription,
    async history(evalId, after) {
      await connected();
      return output.since(evalId, after);
    },
    async ping() {
      await connected();
      await pub.ping();
    },
    async close() {
      clearTimeout(retry);
      if (held.length) await Promise.race([flush(), new Promise((r) => setTimeout(r, 1_000))]);
      pub.disconnect();
      sub?.disconnect();
      return Promise.resolve();
    },
  };
}

/** Redis pub/sub when `redisUrl` is set, else the in-process bus. */
export function createEventBus(
  redisUrl: string | undefined,
  logger: Logger,
  bufferSize?: number,
): EventBus {
  return redisUrl ? createRedisEventBus(redisUrl, logger, bufferSize) : createInProcessEventBus();
}
