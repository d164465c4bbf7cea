import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { StorageService } from '../core/ports/storage-service.js';
import { Webhooks } from '../core/webhooks.js';
import { createMemoryDeliveryQueue } from '../clients/webhook-memory-queue.js';
import { createMemoryWebhookStore, createRedisWebhookStore } from '../clients/webhook-store.js';
import { createWebhookPost } from '../clients/webhook-post.js';
import { statusView } from '../handlers/views.js';

/**
 * Webhooks for a configuration: kept and queued in Redis (Bull) when REDIS_URL is set — every
 * gateway takes attempts, and they survive a gateway's restart — else in this process.
 */
export async function createWebhooks(
  config: Readonly<Config>,
  storage: StorageService,
  events: EventBus,
  logger: Logger,
): Promise<Webhooks> {
  const redisUrl = config.gateway.redisUrl;
  const { prefix, name } = config.jobQueue;
  const view = async (id: string) => {
    const stored = await storage.find(id);
    return stored && statusView(stored);
  };
  const webhooks = new Webhooks({
    store: redisUrl ? createRedisWebhookStore(redisUrl, prefix) : createMemoryWebhookStore(),
    // Bull is loaded only where Redis is (it costs start-up time a gateway without it need not pay).
    queue: redisUrl
      ? (await import('../clients/webhook-queue.js')).createBullDeliveryQueue(
          redisUrl,
          name,
          prefix,
          logger,
        )
      : createMemoryDeliveryQueue(logger),
    post: createWebhookPost(config.webhooks.allowPrivate),
    async render(doc): Promise<{ type: string; data: unknown } | null> {
      const [kind, id] = doc.key.split(/:(.*)/s) as [string, string];
      if (kind === 'ev') {
        const data = await view(id);
        return data && { type: `evaluation.${data.status}`, data };
      }
      const all = await Promise.all((doc.eval_ids ?? []).map(view));
      return {
        type: 'batch.completed',
        data: { batch_id: id, evaluations: all.filter((v) => v !== null) },
      };
    },
    events,
    logger,
    settings: config.webhooks,
  });
  // Attempts are taken from the start: those scheduled before a restart are made again.
  webhooks.start();
  return webhooks;
}
