import { spec } from '../helpers/contract.js';

/**
 * A spec-driven fuzzer: requests to every operation of the contract, valid and mutated (wrong
 * types, boundaries, unicode and NUL strings, deep JSON, duplicate keys, bytes that are not
 * UTF-8, odd methods and headers), each answer checked against the contract: its status listed
 * (or, off the operations, a problem), its body valid, never a 500. Seeded: the same seed sends
 * the same requests.
 */

type Schema = Record<string, any>;
interface Op {
  method: string;
  path: string;
  operationId: string;
  params: Schema[];
  body: Schema | undefined;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const deref = (s: Schema | undefined): Schema => {
  let o = s ?? {};
  while (typeof o.$ref === 'string')
    o = o.$ref
      .replace('#/', '')
      .split('/')
      .reduce((acc: any, k: string) => acc[k], spec);
  return o;
};

const OPERATIONS: Op[] = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]: [string, any]) => ({
    method: method.toUpperCase(),
    path,
    operationId: op.operationId,
    params: (op.parameters ?? []).map(deref),
    body: op.requestBody ? deref(op.requestBody).content['application/json'].schema : undefined,
  })),
);

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '😀'.repeat(50),
  'ß'.repeat(3),
  '%ZZ',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  'x'.repeat(5000),
  '\r\nX-Injected: 1',
];
/** Percent-encoding that never throws: a lone surrogate becomes its (invalid) UTF-8 bytes. */
const uriEncode = (text: string): string => {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
};
const ODD_VALUES = [null, true, 0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, [], {}, [[]], 'NaN'];

export function createFuzzer(seed: number, credentials: Record<string, string>[] = [{}]) {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number): boolean => rand() < p;
  const hex = (n: number): string =>
    Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');

  /** A value the schema accepts, most of the time (patterns other than the ids are guessed). */
  function valid(schema: Schema | undefined, depth = 0): unknown {
    const s = deref(schema);
    if (s.allOf) return valid(s.allOf.find((x: Schema) => deref(x).type) ?? s.allOf[0], depth);
    if (s.oneOf ?? s.anyOf) return valid(pick(s.oneOf ?? s.anyOf), depth);
    if (s.enum) return pick(s.enum);
    if (s.example !== undefined && chance(0.3)) return s.example;
    switch (s.type) {
      case 'integer':
      case 'number': {
        const lo = s.minimum ?? 0;
        const hi = Math.min(s.maximum ?? lo + 100, lo + 1000);
        const n = lo + rand() * (hi - lo);
        return s.type === 'integer' ? Math.round(n) : n;
      }
      case 'boolean':
        return chance(0.5);
      case 'array':
        return depth > 3
          ? []
          : Array.from({ length: Math.min(s.maxItems ?? 3, 1 + Math.floor(rand() * 3)) }, () =>
              valid(s.items, depth + 1),
            );
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries<Schema>(s.properties ?? {}))
          if ((s.required ?? []).includes(k) || chance(0.5)) out[k] = valid(v, depth + 1);
        return out;
      }
      default:
        if (s.pattern?.includes('eval_') || s.example?.toString().startsWith('eval_'))
          return `eval_20240701_120000_${hex(12)}`;
        return chance(0.5) ? 'python' : `print(${Math.floor(rand() * 100)})`;
    }
  }

  /** The value bent out of its contract in one of a few ways. */
  function mutate(value: unknown, schema: Schema | undefined): unknown {
    const s = deref(schema);
    if (value && typeof value === 'object' && !Array.isArray(value) && chance(0.7)) {
      const o = { ...(value as Record<string, unknown>) };
      const keys = Object.keys(s.properties ?? o);
      const key = keys.length ? pick(keys) : 'x';
      const how = rand();
      if (how < 0.25) delete o[key];
      else if (how < 0.4) o[`extra_${hex(3)}`] = pick(ODD_VALUES);
      else if (how < 0.7) o[key] = pick([...ODD_STRINGS, ...ODD_VALUES]);
      else o[key] = mutate(o[key], s.properties?.[key]);
      return o;
    }
    return pick([...ODD_STRINGS, ...ODD_VALUES]);
  }

  /** Raw body bytes: JSON of the value, or something JSON parsers and decoders choke on. */
  function bodyBytes(value: unknown): Buffer {
    const r = rand();
    if (r < 0.85) return Buffer.from(JSON.stringify(value) ?? 'null');
    if (r < 0.88) return Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    if (r < 0.91) return Buffer.from('{"code":"a","code":"print(1)","code":"b"}');
    if (r < 0.94)
      return Buffer.concat([
        Buffer.from('{"code":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
    if (r < 0.97) return Buffer.from('{"code": "x",');
    return Buffer.alloc(0);
  }

  /** One request of the campaign: operation, path, query, headers, body. */
  function next(): {
    op: Op;
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Buffer;
  } {
    const op = pick(OPERATIONS);
    const mutated = chance(0.6);
    let path = op.path;
    const query: string[] = [];
    for (const p of op.params) {
      let v = valid(p.schema);
      if (mutated && chance(0.4)) v = mutate(v, p.schema);
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      if (p.in === 'path') {
        const enc = chance(0.1) ? pick(['%ZZ', '%E0%A4%A', '..', '%2e%2e', '']) : uriEncode(text);
        path = path.replace(`{${p.name}}`, enc);
      } else if (p.in === 'query' && (p.required || chance(0.5)))
        query.push(`${uriEncode(p.name)}=${uriEncode(text)}`);
    }
    if (chance(0.1))
      query.push(`${pick(['probe', '_', 'limit', 'x%ZZ'])}=${pick(['1', '%ZZ', ''])}`);
    const headers: Record<string, string> = { ...pick(credentials) };
    if (chance(0.1)) headers['idempotency-key'] = pick(['k1', hex(8), '', 'x'.repeat(300)]);
    if (chance(0.05)) headers['x-request-id'] = pick(['r1', '', 'x'.repeat(500), '../..']);
    const method = chance(0.05)
      ? pick(['PUT', 'DELETE', 'OPTIONS', 'PATCH', 'POST', 'GET', 'HEAD'])
      : op.method;
    let body: Buffer | undefined;
    // A body on HEAD has no meaning (RFC 9110 §9.3.2), and node's client misreads the answer.
    if (method !== 'HEAD' && (op.body || chance(0.05))) {
      let v = valid(op.body);
      if (mutated && chance(0.6)) v = mutate(v, op.body);
      body = bodyBytes(v);
      headers['content-type'] = chance(0.93)
        ? 'application/json'
        : pick([
            'text/plain',
            'application/json; charset=latin1',
            'application/x-www-form-urlencoded',
            '',
          ]);
    }
    return { op, method, path: query.length ? `${path}?${query.join('&')}` : path, headers, body };
  }

  return { next };
}
