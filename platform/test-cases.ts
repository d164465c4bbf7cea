import type { components } from '../generated/types/gateway.js';
import type { RunResult } from './run-ending.js';

type TestCase = components['schemas']['TestCase'];
type TestResult = components['schemas']['TestResult'];
type TestSummary = components['schemas']['TestSummary'];

const LIMITS = new Set([
  'memory_limit',
  'process_limit',
  'output_limit',
  'file_size_limit',
  'cpu_time_limit',
]);

/** Output as compared: line ends as \n, trailing spaces of each line and trailing newlines dropped. */
const normal = (text: string): string =>
  text
    .replace(/\r\n/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n+$/, '');

/** The verdict of one case's run. */
export function verdictOf(r: RunResult, expected: string | undefined): TestResult['verdict'] {
  if (r.termination_reason === 'timeout' || r.status === 'timeout') return 'timeout';
  if (LIMITS.has(r.termination_reason)) return 'limit';
  if (r.status !== 'completed' || r.exit_code !== 0) return 'error';
  if (expected === undefined) return 'passed';
  return normal(r.output) === normal(expected) ? 'passed' : 'wrong_output';
}

/** What a run with test cases ends as: the cases' results, a summary, and the run to show. */
export interface CasesOutcome {
  /** The run the evaluation's own fields show: the first case that did not pass, else the last. */
  shown: RunResult;
  test_results: TestResult[];
  test_summary: TestSummary;
  /** All cases' wall-clock time. */
  runtime_ms: number;
}

/**
 * Runs the program once per case, one after another, each through `runOne` (a sandbox of its
 * own). A case killed on request (cancelled) ends the whole run there.
 */
export async function runCases(
  cases: TestCase[],
  runOne: (stdin: string | undefined, index: number) => Promise<RunResult>,
): Promise<CasesOutcome | { cancelled: RunResult }> {
  const results: TestResult[] = [];
  const runs: RunResult[] = [];
  for (const [index, c] of cases.entries()) {
    const r = await runOne(c.stdin || undefined, index);
    if (r.status === 'cancelled') return { cancelled: r };
    runs.push(r);
    results.push({
      index,
      verdict: verdictOf(r, c.expected_output),
      output: r.output,
      error: r.error,
      exit_code: r.exit_code,
      termination_reason: r.termination_reason,
      resources: r.resources,
    });
  }
  const passed = results.filter((t) => t.verdict === 'passed').length;
  const firstFailed = results.findIndex((t) => t.verdict !== 'passed');
  return {
    shown: runs[firstFailed === -1 ? runs.length - 1 : firstFailed]!,
    test_results: results,
    test_summary: {
      total: results.length,
      passed,
      failed: results.length - passed,
      verdict: passed === results.length ? 'passed' : 'failed',
    },
    runtime_ms: runs.reduce((n, r) => n + r.runtime_ms, 0),
  };
}

/** The cases' fields of the evaluation's record. */
export interface CasesReport {
  test_results: TestResult[];
  test_summary: TestSummary;
}

/**
 * A run with test cases as the worker records it: the shown case's run, `completed` when every
 * case passed and `failed` otherwise, the time of all cases, and the cases' results.
 */
export function reportOf(
  outcome: CasesOutcome | { cancelled: RunResult },
): RunResult & Partial<CasesReport> {
  if ('cancelled' in outcome) return outcome.cancelled;
  const { shown, test_results, test_summary, runtime_ms } = outcome;
  const { failed, total } = test_summary;
  return {
    ...shown,
    // Wrong output leaves no error of its own: the summary says why the evaluation failed.
    error: shown.error || (failed ? `${failed} of ${total} test cases did not pass` : ''),
    status: test_summary.verdict === 'passed' ? 'completed' : 'failed',
    runtime_ms,
    test_results,
    test_summary,
  };
}
