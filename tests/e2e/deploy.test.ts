import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { projectRoot } from '../../lib/paths.js';
import { contractViolations } from '../helpers/contract.js';

/** The environment of the brief's Docker Compose snippet, word for word. */
const BRIEF_COMPOSE_ENV = {
  CELERY_ENABLED: 'true',
  CELERY_PERCENTAGE: '0.5',
  QUEUE_SERVICE_URL: 'http://queue:8081',
  STORAGE_SERVICE_URL: 'http://storage-service:8082',
};

/**
 * Inside a network namespace of its own (bubblewrap): port 8080 is free whatever runs here, and
 * the brief's hosts (queue, storage-service, redis) resolve nowhere — as in a Compose stack
 * whose other services have not started. The gateway starts with nothing but the brief's
 * environment; a probe in the same namespace reports what it answers.
 */
function inOwnNetwork(): Promise<{ code: number | null; answers: Record<string, any> }> {
  const probe = `
    const get = async (p) => { const r = await fetch('http://127.0.0.1:8080' + p);
      return { status: r.status, type: r.headers.get('content-type'), body: await r.json() }; };
    const end = Date.now() + 30000;
    for (;;) {
      try { await get('/healthz'); break; } catch { if (Date.now() > end) process.exit(3); }
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500)); // a health round or two
    const out = {};
    for (const p of ['/healthz', '/readyz', '/api/status']) out[p] = await get(p);
    console.log('ANSWERS ' + JSON.stringify(out));`;
  const script = `"$NODE" dist/server/main.js > /dev/null 2>&1 & "$NODE" --input-type=module -e "$PROBE"; code=$?; kill $!; exit $code`;
  const child = spawn(
    '/usr/bin/bwrap',
    ['--dev-bind', '/', '/', '--unshare-net', '--die-with-parent', '/bin/sh', '-c', script],
    // Nothing else: not even PATH (the shell and node are named in full).
    {
      cwd: projectRoot,
      env: { ...BRIEF_COMPOSE_ENV, NODE: process.execPath, PROBE: probe },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('ANSWERS '));
      resolve({ code, answers: line ? JSON.parse(line.slice('ANSWERS '.length)) : {} });
    }),
  );
}

describe("the brief's Docker Compose snippet", function () {
  this.timeout(60_000);

  it('starts as written: live, not ready until its services answer, Redis taken from the brief', async () => {
    const { code, answers } = await inOwnNetwork();
    expect(code, JSON.stringify(answers)).to.equal(0);
    expect(answers['/healthz'].status).to.equal(200);
    expect(answers['/readyz'].status).to.equal(503); // queue and storage do not resolve
    const status = answers['/api/status'];
    for (const [path, a] of Object.entries<any>(answers))
      expect(contractViolations('GET', path, a.status, a.type, a.body)).to.deep.equal([]);
    expect(status.body.services.queue.url).to.equal('http://queue:8081');
    // The job queue and events use the brief's redis:6379 — unreachable here, so unhealthy.
    expect(status.body.services.redis.status).to.equal('unhealthy');
    expect(status.body.services.job_queue.status).to.equal('unhealthy');
  });
});
