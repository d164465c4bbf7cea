/**
 * Sandbox start overhead: the wall time of a hello-world evaluation through the local executor,
 * with the sandbox (bubblewrap + per-run cgroups + rlimits) and without (a plain child process),
 * interleaved in one run so both see the same machine. Median and p90 of `--runs` (20) each.
 *
 *   node --import tsx scripts/bench-sandbox.ts [--runs 20]
 */
import { LocalExecutor } from '../platform/local-executor.js';

const i = process.argv.indexOf('--runs');
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 20;

const HELLO: Record<string, string> = {
  python: 'print("hello")',
  javascript: 'console.log("hello")',
  bash: 'echo hello',
};

const boxed = new LocalExecutor('bench-bwrap', 1, { sandbox: 'bwrap' });
const plain = new LocalExecutor('bench-none', 1, { sandbox: 'none' });

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function once(ex: LocalExecutor, language: string, n: number): Promise<number> {
  const t = performance.now();
  const r = await ex.run({
    eval_id: `bench-${n}`,
    language,
    code: HELLO[language]!,
    timeout: 10,
    memory_mb: 512,
    output_bytes: 1 << 20,
  });
  if (r.output !== 'hello\n') throw new Error(`${ex.sandbox.kind} ${language}: ${r.error}`);
  return performance.now() - t;
}

const rows: string[] = [];
for (const language of Object.keys(HELLO)) {
  const times = { bwrap: [] as number[], none: [] as number[] };
  await once(boxed, language, -1); // warm the page cache for both
  await once(plain, language, -1);
  for (let n = 0; n < RUNS; n++) {
    // Alternate which goes first, so neither always follows the other.
    for (const ex of n % 2 ? [boxed, plain] : [plain, boxed])
      times[ex.sandbox.kind].push(await once(ex, language, n));
  }
  const [b, p] = [quantile(times.bwrap, 0.5), quantile(times.none, 0.5)];
  rows.push(
    `| ${language} | ${p.toFixed(1)} (p90 ${quantile(times.none, 0.9).toFixed(1)}) | ${b.toFixed(1)} (p90 ${quantile(times.bwrap, 0.9).toFixed(1)}) | +${(b - p).toFixed(1)} | ${(b / p).toFixed(2)} |`,
  );
}
console.log(
  `Hello world through the local executor, median of ${RUNS} (ms); sandbox limits: ${boxed.sandbox.cgroups}\n`,
);
console.log('| language | no sandbox ms | bwrap ms | overhead ms | ratio |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
