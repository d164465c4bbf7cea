/**
 * The spec-driven fuzzer against a running gateway:
 *
 *   npm run fuzz -- http://127.0.0.1:8080 [--seed 1] [--count 2000]
 *
 * Prints the answers by status and operation and every answer outside the contract; exits 1 when
 * there is any. Only for gateways you run: it submits evaluations.
 */
import { fuzz } from '../tests/fuzz/campaign.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const base = process.argv.slice(2).find((a) => /^https?:\/\//.test(a));
if (!base) {
  process.stderr.write('usage: npm run fuzz -- URL [--seed N] [--count N]\n');
  process.exit(2);
}
// FUZZ_API_KEY / FUZZ_ADMIN_KEY: credentials to call with (each request picks none or one).
const credentials: Record<string, string>[] = [{}];
if (process.env.FUZZ_API_KEY) credentials.push({ 'x-api-key': process.env.FUZZ_API_KEY });
if (process.env.FUZZ_ADMIN_KEY) credentials.push({ 'x-admin-key': process.env.FUZZ_ADMIN_KEY });
const report = await fuzz(base, arg('seed', 1), arg('count', 2000), credentials);
console.log(`${report.requests} requests`);
console.log('by status:', report.byStatus);
console.log('by operation:', report.byOperation);
for (const v of report.violations.slice(0, 50)) console.log(`  ✗ ${v}`);
console.log(`${report.violations.length} answers outside the contract`);
process.exit(report.violations.length ? 1 : 0);
