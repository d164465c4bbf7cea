/**
 * What metrics, the access log and trace context cost: the same build, one gateway with them on
 * (the defaults: LOG_LEVEL=info, every request logged, metrics and tracing on) and one with them
 * off (METRICS_ENABLED=false, TRACING=false, LOG_LEVEL=warn), in alternating rounds. Reported as
 * the share of throughput and the CPU per request they take.
 */
import { load, median, summarize } from './bench-lib.js';
import type { Case, Run, Server } from './bench-lib.js';
import type { ObservabilityReport } from './bench-record.js';

/** The environment that turns all three off. */
export const QUIET_ENV = { METRICS_ENABLED: 'false', TRACING: 'false', LOG_LEVEL: 'warn' };
/** The cost aimed at: under a tenth of the throughput. */
const TARGET = 0.1;

export async function benchObservability(
  on: Server,
  off: Server,
  cases: Case[],
  rounds: number,
  seconds: number,
): Promise<ObservabilityReport[]> {
  const out: ObservabilityReport[] = [];
  console.log('\nmetrics + access log + trace context, on vs off (same build):');
  for (const c of cases) {
    await load(on, c, 1);
    await load(off, c, 1);
    const a: Run[] = [];
    const b: Run[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternating, and starting with the other side every round, against drift.
      if (r % 2) a.push(await load(on, c, seconds));
      b.push(await load(off, c, seconds));
      if (!(r % 2)) a.push(await load(on, c, seconds));
    }
    const withIt = summarize(a, 0);
    const without = summarize(b, 0);
    const cost = Math.round((1 - withIt.rps_median / without.rps_median) * 1000) / 1000;
    const cpu = median(a.map((x) => x.cpu_us)) - median(b.map((x) => x.cpu_us));
    out.push({ case: c.name, on: withIt, off: without, cost, cpu_us_added: cpu, target: TARGET });
    const noisy = withIt.noisy || without.noisy ? '  ⚠ noisy (spread > 15%)' : '';
    console.log(
      `${c.name.padEnd(30)} on ${withIt.rps_median} req/s ${withIt.cpu_us_per_request} µs | off ${without.rps_median} req/s ${without.cpu_us_per_request} µs | ` +
        `cost ${(cost * 100).toFixed(1)}% of throughput, +${cpu} µs/req ${cost < TARGET ? `< ${TARGET * 100}% ✓` : `≥ ${TARGET * 100}% ✗`}${noisy}`,
    );
  }
  return out;
}
