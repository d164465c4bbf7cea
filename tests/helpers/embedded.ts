import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/logger.js';
import { composeGateway } from '../../server/compose.js';
import type { Gateway } from '../../server/compose.js';

/**
 * The gateway with its embedded platform (real queue, storage and a sandboxed worker) in this
 * process, on free ports, silent unless `env` says otherwise; `base` is where it listens.
 */
export async function startEmbedded(
  env: Record<string, string> = {},
): Promise<{ gateway: Gateway; base: string }> {
  const full = {
    PLATFORM_QUEUE_PORT: '0',
    PLATFORM_STORAGE_PORT: '0',
    PLATFORM_EXECUTOR_PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  };
  const gateway = await composeGateway(loadConfig(full), loadConfig, full, silentLogger());
  const { port } = await gateway.app.listen(0, '127.0.0.1');
  return { gateway, base: `http://127.0.0.1:${port}` };
}
