/**
 * Submits per second through the gateway's whole submit path (validate, choose a backend,
 * enqueue, record, publish two events) with the gateway pinned to one core, and the load
 * generator and a minimal legacy queue service on the other. Redis and PostgreSQL are the real
 * local servers; the legacy queue answers at once, so the figure is the gateway's own cost.
 *
 *   npm run build && node --import tsx scripts/bench-submit.ts [seconds]
 *
 * Reports; asserts nothing.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { projectRoot } from '../lib/paths.js';

const SECONDS = Number(process.argv[2] ?? 10);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BODY = JSON.stringify({
  code: 'import time\nprint("Starting...")\ntime.sleep(2)\nprint("Done!")',
  language: 'python',
  timeout: 30,
  priority: false,
});
const taskset = existsSync('/usr/bin/taskset') ? ['taskset', '-c'] : undefined;

function pinned(core: number, cmd: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [bin, ...args] = taskset ? [...taskset, String(core), ...cmd] : cmd;
  return spawn(bin!, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} did not come up`);
}

/** The smallest legacy queue service: accepts every task at once. */
function legacyQueue(): Promise<{ url: string; close: () => void }> {
  let position = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body =
        req.url === '/tasks' && req.method === 'POST'
          ? JSON.stringify({
              eval_id: (JSON.parse(Buffer.concat(chunks).toString()) as { eval_id: string })
                .eval_id,
              status: 'queued',
              position: position++,
            })
          : '{"status":"healthy"}';
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    }),
  );
}

async function run(name: string, env: Record<string, string>): Promise<void> {
  const port = 18500 + Math.floor(Math.random() * 1000);
  const gw = pinned(0, ['node', join(projectRoot, 'dist/server/main.js')], {
    ...process.env,
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/health`);
    const url = `http://127.0.0.1:${port}/api/eval`;
    const common = {
      url,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: BODY,
      connections: 50,
    };
    await autocannon({ ...common, duration: 2 }); // warm-up
    const r = await autocannon({ ...common, duration: SECONDS });
    const non2xx = r.non2xx;
    console.log(
      `${name.padEnd(28)} ${Math.round(r.requests.average).toString().padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors}  non-2xx ${non2xx}`,
    );
  } finally {
    gw.kill('SIGTERM');
  }
}

const queue = await legacyQueue();
const prefix = `bench_${randomBytes(4).toString('hex')}`;
const schema = `bench_${randomBytes(4).toString('hex')}`;
const base = {
  QUEUE_SERVICE_URL: queue.url,
  STORAGE_SERVICE_URL: queue.url,
  REDIS_URL,
  DATABASE_URL,
  DATABASE_SCHEMA: schema,
  BULL_PREFIX: prefix,
};
console.log(
  `submit path, ${SECONDS} s per case, 50 connections, gateway on core 0${taskset ? '' : ' (no taskset: not pinned)'}`,
);
try {
  await run('legacy (in-memory record)', { ...base, DATABASE_URL: '', REDIS_URL: '' });
  await run('legacy + PG record + Redis', {
    ...base,
    CELERY_ENABLED: 'true',
    CELERY_PERCENTAGE: '0',
  });
  await run('bull + PG record + Redis', {
    ...base,
    CELERY_ENABLED: 'true',
    CELERY_PERCENTAGE: '1',
  });
} finally {
  queue.close();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  const sql = postgres(DATABASE_URL, { onnotice: () => undefined });
  await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await sql.end();
}
