import { randomBytes } from 'node:crypto';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import { createEventBus } from '../clients/event-bus.js';
import type { Platform } from '../platform/embedded.js';
import { buildApp } from './app.js';
import type { App } from './app.js';
import { closeDeps, createDeps } from './deps.js';
import type { ServerDeps } from './deps.js';

export interface Gateway {
  config: Readonly<Config>;
  deps: ServerDeps;
  app: App;
  /** The reference platform started in this process (embedded mode), if any. */
  platform: Platform | undefined;
  /** Stops gracefully (see App.close), then the embedded platform, then every connection. */
  close(): Promise<void>;
}

/**
 * The gateway for a configuration, not yet listening. In embedded mode (no service URLs) the
 * reference platform starts first, on loopback, and the gateway's ordinary clients are pointed
 * at it; the two share one event bus. `reload` turns an environment into a configuration (it is
 * called again with the embedded services' URLs).
 */
export async function composeGateway(
  config: Readonly<Config>,
  reload: (env: Record<string, string | undefined>) => Readonly<Config>,
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Gateway> {
  const events = createEventBus(config.gateway.redisUrl, logger, config.durability.eventBufferSize);
  let platform: Platform | undefined;
  if (config.gateway.embedded) {
    // Loaded only in embedded mode: a gateway in front of real services never needs it.
    const { startPlatform } = await import('../platform/embedded.js');
    // No key anyone could know: the embedded services get a new one at every start.
    if (config.gateway.internalApiKeyIsDefault)
      config = Object.freeze({
        ...config,
        gateway: Object.freeze({
          ...config.gateway,
          internalApiKey: randomBytes(32).toString('base64url'),
          internalApiKeyIsDefault: false,
        }),
      });
    platform = await startPlatform(config, events, logger);
    const known = env.EXECUTOR_URLS ? `${env.EXECUTOR_URLS},` : '';
    config = reload({
      ...env,
      INTERNAL_API_KEY: config.gateway.internalApiKey,
      QUEUE_SERVICE_URL: platform.queueUrl,
      STORAGE_SERVICE_URL: platform.storageUrl,
      EXECUTOR_URLS: `${known}${platform.executorId}=${platform.executorUrl}`,
      HOST: config.gateway.host,
    });
    logger.info(
      {
        queue: platform.queueUrl,
        storage: `${platform.storageUrl} (${platform.storageKind})`,
        executor: platform.executorUrl,
      },
      'embedded platform started (no QUEUE_SERVICE_URL / STORAGE_SERVICE_URL set)',
    );
  }
  const deps = await createDeps(config, logger, { events, warnings: platform?.warnings });
  const app = await buildApp(deps);
  return {
    config,
    deps,
    app,
    platform,
    async close() {
      await app.close(config.gateway.shutdownTimeoutMs);
      await platform?.close();
      await closeDeps(deps);
    },
  };
}
