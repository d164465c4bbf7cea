/** What `npm run bench` is made of: the cases, the processes it starts, one load run, its summary. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { SideReport } from './bench-record.js';

export const CONNECTIONS = 50;
const NOISY = 0.15;
export const TASKSET = existsSync('/usr/bin/taskset');

export interface Server {
  name: string;
  port: number;
  proc: ChildProcess;
}

export function pinned(core: number, cmd: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const full = TASKSET ? ['taskset', '-c', String(core), ...cmd] : cmd;
  return spawn(full[0]!, full.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function up(port: number, path = '/health', ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}${path}`)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`port ${port} did not come up`);
}

export const cpuSeconds = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
export const rssMb = (pid: number): number =>
  Math.round(
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
  );
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Case {
  name: string;
  target: 'legacy' | 'bull' | 'postgres';
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  status: number;
  target_ratio?: number;
  /** The path on the I/O floor, for the cases that call a service behind the gateway. */
  io?: string;
}

export const briefExample = JSON.stringify({
  code: 'import time\nprint("Starting...")\ntime.sleep(2)\nprint("Done!")',
  language: 'python',
  timeout: 30,
  priority: false,
});
export const CASES: Case[] = [
  {
    name: 'GET /health',
    target: 'legacy',
    method: 'GET',
    path: '/health',
    status: 200,
    target_ratio: 0.5,
  },
  {
    name: 'POST /api/eval → 422',
    target: 'legacy',
    method: 'POST',
    path: '/api/eval',
    body: JSON.stringify({ code: '   ', timeout: 0 }),
    status: 422,
    target_ratio: 0.4,
  },
  {
    name: 'GET /api/eval-status/{id}',
    target: 'legacy',
    method: 'GET',
    path: '/api/eval-status/eval_20240701_120000_abc123def456',
    status: 200,
    target_ratio: 0.25,
    io: '/api/eval-status/eval_20240701_120000_abc123def456',
  },
  {
    name: 'POST /api/eval (legacy)',
    target: 'legacy',
    method: 'POST',
    path: '/api/eval',
    body: briefExample,
    status: 202,
    target_ratio: 0.2,
    io: '/api/eval',
  },
  {
    name: 'POST /api/eval (bull)',
    target: 'bull',
    method: 'POST',
    path: '/api/eval',
    body: briefExample,
    status: 202,
    target_ratio: 0.2,
    io: '/api/eval?bull',
  },
  {
    // The record written to PostgreSQL before the hand-over and moved to queued after it.
    name: 'POST /api/eval (legacy, PostgreSQL record)',
    target: 'postgres',
    method: 'POST',
    path: '/api/eval',
    body: briefExample,
    status: 202,
    io: '/api/eval',
  },
  {
    name: 'POST /api/eval-batch ×100',
    target: 'legacy',
    method: 'POST',
    path: '/api/eval-batch',
    body: JSON.stringify({
      evaluations: Array.from({ length: 100 }, (_, i) => ({ code: `print(${i})` })),
    }),
    status: 202,
  },
  {
    name: 'POST /api/eval 2 MiB+1 → 413',
    target: 'legacy',
    method: 'POST',
    path: '/api/eval',
    body: 'x'.repeat(2 * 1024 * 1024 + 1),
    status: 413,
  },
];

export interface Run {
  rps: number;
  p50: number;
  p99: number;
  cpu_us: number;
  wrong: number;
}

export async function load(server: Server, c: Case, seconds: number, path = c.path): Promise<Run> {
  const cpu0 = cpuSeconds(server.proc.pid!);
  const r = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    method: c.method,
    body: c.body,
    headers: c.body ? { 'content-type': 'application/json' } : {},
    connections: c.body && c.body.length > 1e6 ? 4 : CONNECTIONS,
    duration: seconds,
  });
  const cpu = cpuSeconds(server.proc.pid!) - cpu0;
  const stats = r.statusCodeStats as Record<string, { count: number }>;
  const ok = stats[String(c.status)]?.count ?? 0;
  // The floors answer without validating: only the gateway's unexpected answers are told.
  if (r.requests.total - ok > 0 && !server.name.includes('floor')) {
    const seen = Object.entries(stats).map(([k, v]) => `${k}×${v.count}`);
    console.log(`  ${server.name} ${c.name}: answers ${seen.join(', ')}, errors ${r.errors}`);
  }
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpu_us: r.requests.total ? Math.round((cpu / r.requests.total) * 1e6) : NaN,
    wrong: r.requests.total - ok,
  };
}

export function summarize(runs: Run[], rss: number): SideReport {
  const rps = runs.map((r) => r.rps);
  const med = median(rps);
  return {
    rps_median: Math.round(med),
    rps_min: Math.round(Math.min(...rps)),
    rps_max: Math.round(Math.max(...rps)),
    p50_ms: median(runs.map((r) => r.p50)),
    p99_ms: median(runs.map((r) => r.p99)),
    cpu_us_per_request: Math.round(median(runs.map((r) => r.cpu_us))),
    rss_mb: rss,
    unexpected_status: runs.reduce((n, r) => n + r.wrong, 0),
    noisy: (Math.max(...rps) - Math.min(...rps)) / med > NOISY,
  };
}

export async function coldStart(
  cmd: string[],
  env: NodeJS.ProcessEnv,
  path: string,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const port = 20000 + Math.floor(Math.random() * 5000);
    const t0 = performance.now();
    const p = pinned(0, cmd, {
      ...env,
      PORT: String(port),
    });
    await up(port, path, 10_000);
    times.push(Math.round(performance.now() - t0));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }
  return times;
}
