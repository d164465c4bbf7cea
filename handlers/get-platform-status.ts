import type { Deps, Handler } from './types.js';

export function getPlatformStatus({ health }: Deps): Handler<'getPlatformStatus'> {
  return () => ({ status: 200, body: health.snapshot() });
}
