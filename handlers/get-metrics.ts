import { timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../lib/errors.js';
import type { Deps, Handler } from './types.js';

/** `/metrics`, behind `Authorization: Bearer <METRICS_TOKEN>` when that is set; 404 when off. */
export function getMetrics({ metrics, config }: Deps): Handler<'getMetrics'> {
  const token = config.gateway.metricsToken;
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return async ({ headers }) => {
    if (!config.gateway.metricsEnabled)
      throw new GatewayError('GW_ERR_NOT_FOUND', 'Metrics are turned off (METRICS_ENABLED=false)');
    if (expected) {
      const given = Buffer.from(String(headers.authorization ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new GatewayError('GW_ERR_UNAUTHORIZED', 'The metrics need the METRICS_TOKEN', {
          headers: { 'www-authenticate': 'Bearer realm="crucible-metrics"' },
        });
      }
    }
    return { status: 200, contentType: 'text/plain', body: await metrics.render() };
  };
}
