import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';

/** The configuration, or the process ends with each bad variable named (exit code 2). */
export function configOrExit(
  env: Record<string, string | undefined>,
  extraCheck?: (c: Readonly<Config>) => string | undefined,
): Readonly<Config> {
  try {
    const config = loadConfig(env);
    const problem = extraCheck?.(config);
    if (problem) throw new ConfigError([problem]);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits (0 when it resolved); exits 1 regardless
 * after `forceAfterMs`.
 */
export function onShutdown(
  stop: (signal: string) => Promise<unknown>,
  forceAfterMs = 10_000,
): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), forceAfterMs);
    force.unref();
    void stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
