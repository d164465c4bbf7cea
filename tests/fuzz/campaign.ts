import http from 'node:http';
import { contractViolations, declaredTypes } from '../helpers/contract.js';
import { createFuzzer } from './fuzzer.js';

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  byOperation: Record<string, number>;
  violations: string[];
}

/** One request on a connection of its own, so that no answer can spoil the next. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
) {
  const { hostname, port } = new URL(base);
  // Always a length: node's client sends a GET's body with neither length nor chunks, which
  // is not HTTP (the server rightly answers the leftover bytes with 400).
  const sent = body ? { ...headers, 'content-length': String(body.length) } : headers;
  return new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method, path, headers: sent, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `count` requests to the gateway at `base` and checks each answer against the spec. */
export async function fuzz(
  base: string,
  seed: number,
  count: number,
  /** Header sets to call with, one picked per request (e.g. none, and an admin key). */
  credentials?: Record<string, string>[],
): Promise<FuzzReport> {
  const fuzzer = createFuzzer(seed, credentials);
  const report: FuzzReport = { requests: 0, byStatus: {}, byOperation: {}, violations: [] };
  for (let i = 0; i < count; i++) {
    const r = fuzzer.next();
    report.requests++;
    let a: Awaited<ReturnType<typeof send>>;
    try {
      a = await send(base, r.method, r.path, r.headers, r.body);
    } catch (err) {
      report.violations.push(
        `#${i} ${r.method} ${r.path.slice(0, 120)}: no answer: ${String(err)}`,
      );
      continue;
    }
    report.byStatus[a.status] = (report.byStatus[a.status] ?? 0) + 1;
    report.byOperation[r.op.operationId] = (report.byOperation[r.op.operationId] ?? 0) + 1;
    const json = /json/.test(a.type);
    let parsed: unknown = a.text;
    if (json && r.method !== 'HEAD') {
      try {
        parsed = JSON.parse(a.text);
      } catch {
        report.violations.push(`#${i} ${r.method} ${r.path}: ${a.status} body is not JSON`);
        continue;
      }
    }
    const problems =
      r.method === 'HEAD' || (r.method === 'OPTIONS' && a.status === 204)
        ? []
        : contractViolations(r.method, r.path, a.status, a.type, parsed);
    if (a.status >= 500 && a.status !== 502 && a.status !== 503 && a.status !== 504)
      problems.push(`status ${a.status}`);
    // Errors are problems, unless the spec gives that answer a body of its own (a probe's 503).
    const own = declaredTypes(r.method, r.path, a.status).includes('application/json');
    if (
      a.status >= 400 &&
      r.method !== 'HEAD' &&
      !own &&
      !a.type.startsWith('application/problem+json')
    )
      problems.push(`error ${a.status} is ${a.type || 'untyped'}, not a problem`);
    for (const p of problems)
      report.violations.push(`#${i} ${r.method} ${r.path.slice(0, 120)}: ${p}`);
  }
  return report;
}
