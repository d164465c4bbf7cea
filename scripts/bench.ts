/**
 * The benchmark the gateway is held to: the same requests against the floor (a raw node:http
 * server answering the same routes with the same bodies, no validation) and against the gateway
 * (its queue and storage services played by the floor, Redis real), each server pinned to core 0
 * and the load generator (autocannon, in this process) on core 1. Rounds alternate floor and
 * gateway; medians are reported with their min–max, and a warning where the spread says the
 * machine was noisy. Also: cold start to the first 200, and the WebSocket fan-out.
 *
 *   npm run bench [-- --seconds 5 --rounds 3 --ws 1000 --ws-big 10000 --record --only bull]
 *
 * Writes bench-results/latest.json; with --record also BENCHMARKS.md. Asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { deleteRedisPrefix } from '../lib/redis.js';
import { projectRoot } from '../lib/paths.js';
import { benchWs } from './bench-ws.js';
import type { WsFigures } from './bench-ws.js';
import { QUIET_ENV, benchObservability } from './bench-observability.js';
import type { BenchReport, CaseReport, ObservabilityReport } from './bench-record.js';
import {
  CASES,
  CONNECTIONS,
  TASKSET,
  coldStart,
  load,
  median,
  pinned,
  rssMb,
  summarize,
  up,
} from './bench-lib.js';
import type { Case, Run, Server } from './bench-lib.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);
const WS_CLIENTS = arg('ws', 1000);
const WS_BIG = arg('ws-big', 0);
const RECORD = process.argv.includes('--record');
const ONLY = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]
  : '';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

// The load generator runs on core 1, beside the services the gateway calls.
if (TASKSET) spawnSync('taskset', ['-p', '-c', '1', String(process.pid)]);
if (!existsSync(join(projectRoot, 'dist/server/main.js')))
  throw new Error('run npm run build first (npm run bench does)');

const floorScript = join(projectRoot, 'scripts/floor-server.mjs');
const gatewayMain = join(projectRoot, 'dist/server/main.js');
const prefix = `bench_${randomBytes(4).toString('hex')}`;
const downstreamPort = 18600;
const downstream = pinned(1, ['node', floorScript, String(downstreamPort)]);
const floor: Server = {
  name: 'floor',
  port: 18601,
  proc: pinned(0, ['node', floorScript, '18601']),
};
const ioFloor: Server = {
  name: 'I/O floor',
  port: 18604,
  proc: pinned(0, [
    'node',
    join(projectRoot, 'scripts/floor-io.mjs'),
    '18604',
    `http://127.0.0.1:${downstreamPort}`,
    REDIS_URL,
    `${prefix}_io`,
  ]),
};
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `${prefix}_gw`;
const gatewayEnv = (port: number, bull: boolean): NodeJS.ProcessEnv => ({
  PORT: String(port),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  QUEUE_SERVICE_URL: `http://127.0.0.1:${downstreamPort}`,
  STORAGE_SERVICE_URL: `http://127.0.0.1:${downstreamPort}`,
  REDIS_URL,
  CELERY_ENABLED: bull ? 'true' : 'false',
  CELERY_PERCENTAGE: '1',
  BULL_PREFIX: prefix,
  INTERNAL_API_KEY: 'bench',
  HEALTH_INTERVAL_MS: '600000',
  HEALTH_GRACE_MS: '0',
});
const gateways: Record<Case['target'], Server> = {
  legacy: {
    name: 'gateway',
    port: 18602,
    proc: pinned(0, ['node', gatewayMain], gatewayEnv(18602, false)),
  },
  postgres: {
    name: 'gateway (PostgreSQL record)',
    port: 18605,
    proc: pinned(0, ['node', gatewayMain], {
      ...gatewayEnv(18605, false),
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
    }),
  },
  bull: {
    name: 'gateway (bull)',
    port: 18603,
    proc: pinned(0, ['node', gatewayMain], gatewayEnv(18603, true)),
  },
};

// The legacy gateway again with metrics, the access log and trace context off.
const quiet: Server = {
  name: 'gateway (quiet)',
  port: 18606,
  proc: pinned(0, ['node', gatewayMain], { ...gatewayEnv(18606, false), ...QUIET_ENV }),
};
const OBSERVED = ['POST /api/eval → 422', 'GET /api/eval-status/{id}', 'POST /api/eval (legacy)'];

const results: CaseReport[] = [];
let observability: ObservabilityReport[] = [];
const ws: WsFigures[] = [];
let cold: BenchReport['cold_start'] | undefined;
try {
  await Promise.all([
    up(downstreamPort),
    up(floor.port),
    up(ioFloor.port),
    up(gateways.legacy.port),
    up(gateways.bull.port),
    up(gateways.postgres.port),
    up(quiet.port),
  ]);
  const idle = {
    floor_mb: rssMb(floor.proc.pid!),
    gateway_mb: rssMb(gateways.legacy.proc.pid!),
    gateway_bull_mb: rssMb(gateways.bull.proc.pid!),
  };
  console.log(
    `machine: ${cpus().length}× ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}${TASKSET ? '' : ' (no taskset: processes not pinned)'}`,
  );
  console.log(
    `${ROUNDS} rounds × ${SECONDS} s per side and case, ${CONNECTIONS} connections, servers on core 0, load on core 1\n`,
  );
  for (const c of CASES.filter((x) => (ONLY ?? '').split(',').some((o) => x.name.includes(o)))) {
    const gw = gateways[c.target];
    await load(floor, c, 1); // warm-up
    await load(gw, c, 1);
    const f: Run[] = [];
    const g: Run[] = [];
    const io: Run[] = [];
    if (c.io) await load(ioFloor, c, 1, c.io);
    for (let r = 0; r < ROUNDS; r++) {
      f.push(await load(floor, c, SECONDS));
      if (c.io) io.push(await load(ioFloor, c, SECONDS, c.io));
      g.push(await load(gw, c, SECONDS));
    }
    const fs = summarize(f, rssMb(floor.proc.pid!));
    const gs = summarize(g, rssMb(gw.proc.pid!));
    const ios = c.io ? summarize(io, rssMb(ioFloor.proc.pid!)) : null;
    const ratio = Math.round((gs.rps_median / fs.rps_median) * 1000) / 1000;
    const ioRatio = ios ? Math.round((gs.rps_median / ios.rps_median) * 1000) / 1000 : null;
    results.push({
      case: c.name,
      expected_status: c.status,
      floor: fs,
      io_floor: ios,
      gateway: gs,
      ratio,
      ratio_to_io_floor: ioRatio,
      target_ratio: c.target_ratio ?? null,
    });
    const flag = fs.noisy || gs.noisy ? '  ⚠ noisy (spread > 15%)' : '';
    const target = c.target_ratio
      ? ratio >= c.target_ratio
        ? ` ≥ ${c.target_ratio} ✓`
        : ` < ${c.target_ratio} ✗`
      : '';
    console.log(
      `${c.name.padEnd(30)} floor ${String(fs.rps_median).padStart(6)} (${fs.rps_min}–${fs.rps_max}) ${String(fs.cpu_us_per_request).padStart(4)} µs | ` +
        `gateway ${String(gs.rps_median).padStart(6)} (${gs.rps_min}–${gs.rps_max}) ${String(gs.cpu_us_per_request).padStart(4)} µs ` +
        `p50 ${gs.p50_ms} p99 ${gs.p99_ms} ms | ratio ${ratio}${target}${flag}` +
        (ios
          ? ` | I/O floor ${ios.rps_median} (${Math.round((ios.rps_median / fs.rps_median) * 1000) / 1000} of the floor), gateway/I/O floor ${ioRatio}`
          : '') +
        (gs.unexpected_status ? `  ⚠ ${gs.unexpected_status} unexpected statuses` : ''),
    );
  }
  if (!ONLY || ONLY === 'observability')
    observability = await benchObservability(
      gateways.legacy,
      quiet,
      CASES.filter((c) => OBSERVED.includes(c.name)),
      ROUNDS + 1,
      SECONDS,
    );
  const env = gatewayEnv(0, false);
  delete env.PORT;
  const coldFloor = await coldStart(['node', floorScript], {}, '/health');
  const coldGateway = await coldStart(['node', gatewayMain], env, '/health');
  cold = {
    floor_ms: coldFloor,
    gateway_ms: coldGateway,
    floor_median_ms: median(coldFloor),
    gateway_median_ms: median(coldGateway),
    rss_idle: idle,
  };
  console.log(
    `\ncold start to first 200 on /health (median of 5): floor ${median(coldFloor)} ms, gateway ${median(coldGateway)} ms (target ≤ 300)`,
  );
  console.log(
    `RSS idle: floor ${idle.floor_mb} MB, gateway ${idle.gateway_mb} MB, with Bull ${idle.gateway_bull_mb} MB (target ≤ 100)`,
  );
} finally {
  for (const p of [
    floor.proc,
    ioFloor.proc,
    gateways.postgres.proc,
    gateways.legacy.proc,
    gateways.bull.proc,
    quiet.proc,
    downstream,
  ])
    p.kill('SIGTERM');
  await deleteRedisPrefix(REDIS_URL, prefix);
  await deleteRedisPrefix(REDIS_URL, `${prefix}_io`);
  const sql = postgres(DATABASE_URL, { onnotice: () => undefined });
  await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => sql.end());
}

for (const n of [WS_CLIENTS, WS_BIG].filter((x) => x > 0)) {
  const f = await benchWs(n, 50);
  ws.push(f);
  console.log(
    `\nWebSocket: ${f.connected}/${f.clients} clients, ${f.events} events (20/s): publish→client p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms; ` +
      `gateway RSS ${f.rss_idle_mb} → ${f.rss_connected_mb} MB connected → ${f.rss_after_mb} MB; gateway CPU ${Math.round(f.gateway_cpu_during_events * 100)}% during events`,
  );
}

if (!cold) throw new Error('no cold-start figures');
const report: BenchReport = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    pinned: TASKSET,
  },
  settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS },
  cases: results,
  cold_start: cold,
  websocket: ws,
  observability,
};
mkdirSync(join(projectRoot, 'bench-results'), { recursive: true });
writeFileSync(
  join(projectRoot, 'bench-results/latest.json'),
  JSON.stringify(report, null, 2) + '\n',
);
console.log('\nwritten: bench-results/latest.json');
if (RECORD) {
  const { recordBenchmarks } = await import('./bench-record.js');
  recordBenchmarks(report);
  console.log('written: BENCHMARKS.md');
}
// The sandbox's start overhead, last (it runs evaluations, not requests); here rather than after
// `&&` in package.json, so that `npm run bench -- --flags` reach this script.
if (!ONLY) {
  console.log('');
  await import('./bench-sandbox.js');
}
