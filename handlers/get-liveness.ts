import type { Handler } from './types.js';

export function getLiveness(): Handler<'getLiveness'> {
  return () => ({ status: 200, body: { status: 'ok' } });
}
