import nock from 'nock';
import { expect } from 'chai';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/logger.js';
import type { Logger } from '../../lib/logger.js';
import { buildApp } from '../../server/app.js';
import type { App } from '../../server/app.js';
import { closeDeps, createDeps } from '../../server/deps.js';
import type { ServerDeps } from '../../server/deps.js';
import type { Channel } from '../../clients/event-bus.js';
import { contractViolations } from './contract.js';

export const QUEUE = 'http://queue.test:8081';
export const STORAGE = 'http://storage.test:8082';
export const INTERNAL_KEY = 'test-internal-key';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface Gateway {
  url: string;
  app: App;
  deps: ServerDeps;
  /**
   * Every event about the evaluations this gateway published events for, in order. On a shared
   * Redis other test runs publish on the same channels; their events are left out.
   */
  events: { channel: Channel; payload: any }[];
  call<T = any>(method: string, path: string, opts?: CallOptions): Promise<Answer<T>>;
  close(): Promise<void>;
}

/**
 * Starts the gateway on port 0 with its real HTTP clients aimed at hosts nock answers for. Every
 * answer `call` receives is checked against spec/openapi.yaml; a violation fails the test.
 */
export async function startGateway(
  env: Record<string, string> = {},
  logger: Logger = silentLogger(),
): Promise<Gateway> {
  const config = loadConfig({
    QUEUE_SERVICE_URL: QUEUE,
    STORAGE_SERVICE_URL: STORAGE,
    INTERNAL_API_KEY: INTERNAL_KEY,
    DOWNSTREAM_TIMEOUT_MS: '300',
    DOWNSTREAM_RETRIES: '1',
    // Outside embedded mode Redis defaults to the brief's redis:6379; these gateways have none
    // unless a test gives one.
    REDIS_URL: 'none',
    ...env,
  });
  const deps = await createDeps(config, logger);
  const events: Gateway['events'] = [];
  const own = new Set<string>();
  const publish = deps.events.publish.bind(deps.events);
  deps.events.publish = (channel, payload) => {
    own.add((payload as { eval_id: string }).eval_id);
    return publish(channel, payload);
  };
  deps.events.subscribe((channel, payload) => {
    if (own.has((payload as { eval_id: string }).eval_id)) events.push({ channel, payload });
  });
  // A gateway whose Redis is down never completes its subscription; tests of that case go on.
  await Promise.race([deps.events.subscribed(), new Promise((r) => setTimeout(r, 1000))]);
  const app = await buildApp(deps);
  const address = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    app,
    deps,
    events,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | Buffer | undefined = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] ??= 'application/json';
      }
      const abort = new AbortController();
      const res = await fetch(url + path, { method, headers, body, signal: abort.signal });
      const type = res.headers.get('content-type') ?? '';
      // An event stream may not end: its opening is what a call sees (tests/helpers/sse.ts reads on).
      if (type.startsWith('text/event-stream')) abort.abort();
      const text = type.startsWith('text/event-stream') ? '' : await res.text();
      const parsed: unknown = /json/.test(type) && text ? JSON.parse(text) : text;
      const violations = contractViolations(method, path, res.status, type, parsed);
      expect(violations, `${method} ${path} answered outside the contract`).to.deep.equal([]);
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    async close() {
      await app.close();
      await closeDeps(deps);
    },
  };
}

/** Blocks every host but the gateway on loopback, so an unplanned downstream call fails loudly. */
export function isolate(): void {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(function () {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    if (this.currentTest?.state === 'passed') {
      expect(
        pending,
        'downstream calls the test expected but the gateway never made',
      ).to.deep.equal([]);
    }
  });
  after(() => {
    nock.enableNetConnect();
  });
}

/** A storage Evaluation as the storage service answers it. */
export function stored(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    status: 'queued',
    code: 'print(1)',
    language: 'python',
    created_at: '2024-07-01T12:00:00',
    started_at: null,
    completed_at: null,
    output: null,
    error: null,
    output_truncated: false,
    error_truncated: false,
    metadata: {},
    ...over,
  };
}

/** A loopback URL where nothing listens: connecting to it is refused for real. */
export async function refusedUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** A loopback server that accepts connections and resets them at once (ECONNRESET). */
export async function resettingUrl(): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:net');
  const server = createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
