import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** The one structured logger; `LOG_LEVEL` decides what it writes. */
export function createLogger(level: string, service = 'api-gateway'): Logger {
  return pino({ level, base: { service } });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
