/**
 * WebSocket fan-out: N clients subscribed to every evaluation on one gateway (pinned to core 0),
 * M lifecycle events published on the real Redis; reports the clients connected, the latency from
 * publish to each client (p50/p99) and the gateway's memory. The clients run in this process on
 * the other core, so their own receive cost is part of the latency.
 *
 *   npm run build && node --import tsx scripts/bench-ws.ts [N=1000] [M=50]
 *
 * Reports; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { projectRoot } from '../lib/paths.js';

const N = Number(process.argv[2] ?? 1000);
const M = Number(process.argv[3] ?? 50);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface WsFigures {
  clients: number;
  connected: number;
  events: number;
  deliveries: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  rss_idle_mb: number;
  rss_connected_mb: number;
  rss_after_mb: number;
  connect_s: number;
  /** Share of one core the gateway used while the events were sent and delivered. */
  gateway_cpu_during_events: number;
}

const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};

/** CPU seconds (user + system) the process has used. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
};

const pct = (sorted: number[], p: number): number =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN)
    : NaN;

export async function benchWs(n: number, m: number): Promise<WsFigures> {
  const port = 19000 + Math.floor(Math.random() * 1000);
  const taskset = existsSync('/usr/bin/taskset') ? ['taskset', '-c', '0'] : [];
  const [bin, ...args] = [...taskset, 'node', join(projectRoot, 'dist/server/main.js')];
  const gw = spawn(bin, args, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      REDIS_URL,
      QUEUE_SERVICE_URL: 'http://127.0.0.1:9',
      STORAGE_SERVICE_URL: 'http://127.0.0.1:9',
      WS_HEARTBEAT_MS: '30000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const redis = new Redis(REDIS_URL);
  const clients: WebSocket[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const rss_idle_mb = rssMb(gw.pid!);
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < n; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, n - i) }, async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?all=true`);
          ws.on('message', (data: Buffer) => {
            const msg = JSON.parse(data.toString()) as {
              type: string;
              payload?: { sent_at?: number };
            };
            if (msg.type === 'event' && msg.payload?.sent_at)
              latencies.push(performance.timeOrigin + performance.now() - msg.payload.sent_at);
          });
          await new Promise<void>((resolve) => {
            ws.once('open', () => resolve());
            ws.once('error', () => resolve());
          });
          clients.push(ws);
        }),
      );
    }
    const connect_s = Math.round((performance.now() - started) / 10) / 100;
    const connected = clients.filter((c) => c.readyState === WebSocket.OPEN).length;
    await new Promise((r) => setTimeout(r, 500));
    const rss_connected_mb = rssMb(gw.pid!);
    const cpuBefore = cpuSeconds(gw.pid!);
    const eventsStarted = performance.now();
    for (let i = 0; i < m; i++) {
      const payload = {
        eval_id: `bench_${i}`,
        reason: 'benchmark',
        sent_at: performance.timeOrigin + performance.now(),
      };
      await redis.publish('evaluation:cancelled', JSON.stringify(payload));
      await new Promise((r) => setTimeout(r, 50)); // 20 events a second
    }
    const end = Date.now() + 10_000;
    while (latencies.length < connected * m && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const gateway_cpu_during_events =
      Math.round(
        ((cpuSeconds(gw.pid!) - cpuBefore) / ((performance.now() - eventsStarted) / 1000)) * 100,
      ) / 100;
    const rss_after_mb = rssMb(gw.pid!);
    latencies.sort((a, b) => a - b);
    return {
      clients: n,
      connected,
      events: m,
      deliveries: latencies.length,
      p50_ms: Math.round(pct(latencies, 50) * 10) / 10,
      p99_ms: Math.round(pct(latencies, 99) * 10) / 10,
      max_ms: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
      rss_idle_mb,
      rss_connected_mb,
      rss_after_mb,
      connect_s,
      gateway_cpu_during_events,
    };
  } finally {
    for (const c of clients) c.terminate();
    redis.disconnect();
    gw.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await benchWs(N, M);
  console.log(JSON.stringify(f, null, 2));
}
