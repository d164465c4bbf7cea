/**
 * `npm run dashboard:preview`: draws docs/dashboard.svg, the picture of the Grafana dashboard
 * (deploy/grafana/crucible-gateway.json) in the README. It runs a gateway in embedded mode (its
 * platform, a worker, Redis, the traffic split at 50%) through a scripted minute — a burst of
 * submissions the workers fall behind on, status reads, WebSocket followers, a few bad requests —
 * scrapes /metrics every second, and draws each panel from the scrapes as its queries define them
 * (scripts/dashboard-data.ts). A drawing of recorded figures, not a Grafana screenshot.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { projectRoot } from '../lib/paths.js';
import { deleteRedisPrefix } from '../lib/redis.js';
import { freePort, start, waitUntilUp } from '../tests/helpers/process.js';
import { gauge, parseScrape, quantile, rate, ratio } from './dashboard-data.js';
import type { Scrape, Series } from './dashboard-data.js';
import { renderDashboard } from './dashboard-svg.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = 60;
const prefix = `preview_${randomBytes(4).toString('hex')}`;
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const gateway = start(['node', 'dist/server/main.js'], {
  PORT: String(port),
  REDIS_URL,
  CELERY_ENABLED: 'true',
  CELERY_PERCENTAGE: '0.5',
  BULL_PREFIX: prefix,
  PLATFORM_QUEUE_PORT: '0',
  PLATFORM_STORAGE_PORT: '0',
  PLATFORM_EXECUTOR_PORT: '0',
  METRICS_SAMPLE_MS: '1000',
  LOG_LEVEL: 'warn',
});
const scrapes: Scrape[] = [];
const sockets: WebSocket[] = [];
try {
  await waitUntilUp(`${base}/readyz`, gateway);
  for (let i = 0; i < 3; i++) {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    await new Promise((r) => ws.once('open', r));
    sockets.push(ws);
  }
  const t0 = Date.now();
  const ids: string[] = [];
  const post = (body: unknown) =>
    fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  for (let s = 0; s < SECONDS; s++) {
    // Seconds 10–25: 60 submissions a second, more than two workers run; then 3 a second.
    const submits = s >= 10 && s < 25 ? 60 : 3;
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < submits; i++)
      work.push(
        post({ code: `print(${i})`, language: 'python' })
          .then((r) => r.json() as Promise<{ eval_id: string }>)
          .then((b) => {
            ids.push(b.eval_id);
            sockets[ids.length % sockets.length]!.send(
              JSON.stringify({ type: 'subscribe', eval_ids: [b.eval_id] }),
            );
          }),
      );
    for (let i = 0; i < 20 && ids.length; i++)
      work.push(fetch(`${base}/api/eval-status/${ids[(Math.random() * ids.length) | 0]}`));
    if (s % 3 === 0) work.push(post({ code: ' ', timeout: 0 })); // a 422
    await Promise.all(work);
    scrapes.push(parseScrape(Date.now(), await (await fetch(`${base}/metrics`)).text()));
    const next = t0 + (s + 1) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
} finally {
  for (const ws of sockets) ws.close();
  await gateway.stop();
  await deleteRedisPrefix(REDIS_URL, prefix);
}

const by =
  (...keys: string[]) =>
  (l: Record<string, string>) =>
    keys.map((k) => l[k]).join(' ');
const only = (key: string, value: string) => (l: Record<string, string>) =>
  l[key] === value ? '' : null;
const one = (name: string, s: Series): Series => ({ [name]: Object.values(s)[0] ?? [] });
const requests = rate(scrapes, 'crucible_http_requests_total');
const figures: Record<number, Series> = {
  1: rate(scrapes, 'crucible_http_requests_total', by('operation')),
  2: {
    '5xx': ratio(
      rate(scrapes, 'crucible_http_requests_total', only('status_class', '5xx'))[''],
      requests[''],
    ),
    '4xx': ratio(
      rate(scrapes, 'crucible_http_requests_total', only('status_class', '4xx'))[''],
      requests[''],
    ),
  },
  3: {
    ...one('p50', quantile(scrapes, 0.5, 'crucible_http_request_duration_seconds')),
    ...one('p99', quantile(scrapes, 0.99, 'crucible_http_request_duration_seconds')),
  },
  4: {
    ...rate(scrapes, 'crucible_submissions_total', by('backend')),
    ...one('fallbacks', rate(scrapes, 'crucible_fallbacks_total')),
  },
  5: gauge(scrapes, 'crucible_traffic_split_ratio', by('kind')),
  6: gauge(scrapes, 'crucible_queue_depth', by('backend', 'state')),
  7: quantile(scrapes, 0.99, 'crucible_downstream_request_duration_seconds', by('service')),
  8: rate(scrapes, 'crucible_downstream_errors_total', by('service', 'kind')),
  9: gauge(scrapes, 'crucible_circuit_state', (l) => (l.state === 'open' ? l.service! : null)),
  10: {
    ...one('connections', gauge(scrapes, 'crucible_ws_connections')),
    ...one('sent/s', rate(scrapes, 'crucible_ws_messages_sent_total')),
    ...one('received/s', rate(scrapes, 'crucible_ws_messages_received_total')),
  },
  11: {
    ...one('held for Redis', gauge(scrapes, 'crucible_events_pending')),
    ...one('dropped', rate(scrapes, 'crucible_events_dropped_total')),
  },
  12: {
    ...one('CPU', rate(scrapes, 'crucible_process_cpu_seconds_total')),
    ...one('event-loop lag p99', gauge(scrapes, 'crucible_nodejs_eventloop_lag_p99_seconds')),
  },
};
const dashboard = JSON.parse(
  readFileSync(join(projectRoot, 'deploy/grafana/crucible-gateway.json'), 'utf8'),
) as Parameters<typeof renderDashboard>[0];
const svg = renderDashboard(dashboard, figures, SECONDS);
writeFileSync(join(projectRoot, 'docs/dashboard.svg'), svg);
console.log(`written: docs/dashboard.svg (${scrapes.length} scrapes)`);
