import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../lib/paths.js';
import type { WsFigures } from './bench-ws.js';

export interface SideReport {
  rps_median: number;
  rps_min: number;
  rps_max: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_request: number;
  rss_mb: number;
  unexpected_status: number;
  noisy: boolean;
}

export interface CaseReport {
  case: string;
  expected_status: number;
  floor: SideReport;
  /** Raw node:http doing the case's downstream calls and publishes, for the cases with any. */
  io_floor: SideReport | null;
  gateway: SideReport;
  ratio: number;
  ratio_to_io_floor: number | null;
  target_ratio: number | null;
}

/** One case on a gateway with metrics, access log and tracing on, and the same with them off. */
export interface ObservabilityReport {
  case: string;
  on: SideReport;
  off: SideReport;
  /** The share of throughput they take: 1 − on/off. */
  cost: number;
  cpu_us_added: number;
  target: number;
}

export interface BenchReport {
  date: string;
  machine: {
    cpus: number;
    model: string | undefined;
    memory_gib: number;
    node: string;
    pinned: boolean;
  };
  settings: { seconds: number; rounds: number; connections: number };
  cases: CaseReport[];
  cold_start: {
    floor_ms: number[];
    gateway_ms: number[];
    floor_median_ms: number;
    gateway_median_ms: number;
    rss_idle: { floor_mb: number; gateway_mb: number; gateway_bull_mb: number };
  };
  websocket: WsFigures[];
  observability: ObservabilityReport[];
}

/** Writes BENCHMARKS.md from a bench report: the figures, the machine, how to reproduce. */
export function recordBenchmarks(report: BenchReport): void {
  const rows = report.cases
    .map((c) => {
      const target =
        c.target_ratio === null
          ? '—'
          : `${c.target_ratio} ${c.ratio >= c.target_ratio ? '✓' : '✗'}`;
      const noisy = c.floor.noisy || c.gateway.noisy ? ' ⚠' : '';
      return `| ${c.case} | ${c.floor.rps_median} (${c.floor.rps_min}–${c.floor.rps_max}) | ${c.floor.cpu_us_per_request} | ${c.gateway.rps_median} (${c.gateway.rps_min}–${c.gateway.rps_max})${noisy} | ${c.gateway.p50_ms} / ${c.gateway.p99_ms} | ${c.gateway.cpu_us_per_request} | ${c.gateway.rss_mb} | **${c.ratio}** | ${target} | ${c.io_floor ? `${c.io_floor.rps_median} / ${c.ratio_to_io_floor}` : '—'} |`;
    })
    .join('\n');
  const ws = report.websocket
    .map(
      (w) =>
        `| ${w.clients} | ${w.connected} | ${w.events} | ${w.p50_ms} | ${w.p99_ms} | ${w.rss_idle_mb} → ${w.rss_connected_mb} → ${w.rss_after_mb} | ${Math.round(w.gateway_cpu_during_events * 100)}% |`,
    )
    .join('\n');
  const obs = report.observability
    .map(
      (o) =>
        `| ${o.case} | ${o.on.rps_median} | ${o.off.rps_median} | ${o.on.cpu_us_per_request} / ${o.off.cpu_us_per_request} | **${(o.cost * 100).toFixed(1)}%** ${o.cost < o.target ? '✓' : '✗'} |`,
    )
    .join('\n');
  const cold = report.cold_start;
  const m = report.machine;
  writeFileSync(
    join(projectRoot, 'BENCHMARKS.md'),
    `# Benchmarks

Latest figures of \`npm run bench\` (${report.date.slice(0, 10)}). Each request is sent, in the
same run, to the **floor** — a raw node:http server answering the same routes with the same
bodies and no validation (\`scripts/floor-server.mjs\`), the physical limit for Node here — and
to the **gateway**, whose queue and storage services are played by the floor and whose Redis is
real. The **ratio** is gateway / floor requests per second. Servers run pinned to core 0, the
load generator (autocannon, ${report.settings.connections} connections) and the floor-as-downstream
on core 1; ${report.settings.rounds} rounds of ${report.settings.seconds} s per side, floor and gateway
alternating; medians with min–max. ⚠ marks a spread over 15% (a noisy machine). Cases that call
a service are also sent to the **I/O floor** (\`scripts/floor-io.mjs\`): raw node:http making the
same downstream call and Redis publishes with the same libraries and nothing else — what the
gateway's own code adds shows as its ratio to that.

Machine: ${m.cpus}× ${m.model}, ${m.memory_gib} GiB, Node ${m.node}${m.pinned ? '' : ' (not pinned: no taskset)'}.

| case | floor req/s | floor µs/req | gateway req/s | p50 / p99 ms | gateway µs/req | RSS MB | ratio | target | I/O floor req/s / gateway ratio to it |
|---|---|---|---|---|---|---|---|---|---|
${rows}

Cold start to the first 200 on \`/health\` (median of 5): floor ${cold.floor_median_ms} ms,
gateway ${cold.gateway_median_ms} ms (target ≤ 300 ms). RSS idle: floor ${cold.rss_idle.floor_mb} MB,
gateway ${cold.rss_idle.gateway_mb} MB, gateway with Bull ${cold.rss_idle.gateway_bull_mb} MB (target ≤ 100 MB).

WebSocket fan-out (\`scripts/bench-ws.ts\`): N clients subscribed to everything, events published
on Redis at 20 a second; latency from publish to each client; the clients run on the other core,
so their own receive cost is included.

| clients | connected | events | p50 ms | p99 ms | gateway RSS MB idle → connected → after | gateway CPU during events |
|---|---|---|---|---|---|---|
${ws}

What metrics, the access log and trace context cost (\`scripts/bench-observability.ts\`): the same
build with them on (the defaults, every request logged at info) and off (\`METRICS_ENABLED=false\`,
\`TRACING=false\`, \`LOG_LEVEL=warn\`), alternating rounds. Aim: under 10% of the throughput.

| case | on req/s | off req/s | µs/req on / off | cost |
|---|---|---|---|---|
${obs}

## Reproduce

\`\`\`bash
npm ci
npm run bench                                   # the table above, to stdout and bench-results/latest.json
npm run bench -- --ws-big 10000 --record        # also 10,000 WebSocket clients; rewrite this file
\`\`\`

Needs Redis on 127.0.0.1:6379 (\`npm run services\` starts it) and \`taskset\` for pinning.
`,
  );
}
