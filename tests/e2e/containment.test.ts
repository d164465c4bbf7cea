import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { contractViolations } from '../helpers/contract.js';
import { freePort, start, waitUntilUp } from '../helpers/process.js';
import type { Started } from '../helpers/process.js';
import {
  DATABASE_URL,
  REDIS_URL,
  dropRedisPrefix,
  dropSchema,
  uniqueName,
  until,
} from '../helpers/services.js';

/**
 * The sandbox tried as an attacker would: the gateway runs as its own process (npm start,
 * embedded platform, PostgreSQL storage, Redis, both backends), submitted programs try to break
 * out, and only HTTP answers and what is left on this host are looked at.
 */
describe('containment: submitted code stays in its box (separate processes, PostgreSQL, Redis)', function () {
  this.timeout(180_000);
  const tag = randomBytes(6).toString('hex');
  const secrets = {
    API_KEYS: `key-${tag}`,
    ADMIN_API_KEY: `admin-${tag}`,
    INTERNAL_API_KEY: `internal-${tag}`,
  };
  const schemas = [uniqueName('gw'), uniqueName('platform')];
  const prefix = uniqueName('bull');
  const projectRoot = process.cwd();
  const hostMarker = join(projectRoot, 'dist', `escaped-${tag}`);
  let gateway: Started;
  let base: string;
  let storagePort: number;

  before(async () => {
    const port = await freePort();
    storagePort = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = start(['npm', 'start'], {
      ...secrets,
      PORT: String(port),
      DATABASE_URL,
      DATABASE_SCHEMA: schemas[0],
      PLATFORM_SCHEMA: schemas[1],
      REDIS_URL,
      CELERY_ENABLED: 'true',
      CELERY_PERCENTAGE: '0.5',
      BULL_PREFIX: prefix,
      ALLOWED_LANGUAGES: 'python,javascript,bash',
      EXECUTOR_SANDBOX: 'bwrap',
      EVAL_MEMORY_MB: '256',
      EVAL_MAX_PROCESSES: '32',
      EVAL_OUTPUT_BYTES: '65536',
      EVAL_FILE_SIZE_MB: '4',
      WORKER_CONCURRENCY: '3',
      PLATFORM_QUEUE_PORT: '0',
      PLATFORM_STORAGE_PORT: String(storagePort),
      PLATFORM_EXECUTOR_PORT: '0',
    });
    await waitUntilUp(`${base}/health`, gateway);
  });
  after(async () => {
    await gateway?.stop();
    rmSync(hostMarker, { force: true });
    await dropRedisPrefix(prefix);
    for (const s of schemas) await dropSchema(s);
  });

  async function call(method: string, path: string, json?: unknown): Promise<any> {
    const res = await fetch(base + path, {
      method,
      headers: {
        'x-api-key': secrets.API_KEYS,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const body = await res.json();
    expect(
      contractViolations(method, path, res.status, res.headers.get('content-type') ?? '', body),
    ).to.deep.equal([]);
    return body;
  }

  /** Submits `code` and waits for its end; the answer is checked against the contract. */
  async function evaluate(language: string, code: string, timeout = 10): Promise<any> {
    const { eval_id } = await call('POST', '/api/eval', { code, language, timeout });
    expect(eval_id, 'submitted').to.be.a('string');
    let last: any;
    await until(async () => {
      last = await call('GET', `/api/eval-status/${eval_id}`);
      return ['completed', 'failed', 'cancelled'].includes(last.status);
    }, 60_000);
    return last;
  }

  const leaked = (s: any): string[] =>
    Object.values(secrets).filter((v) => `${s.output}${s.error}`.includes(v));

  const readEnvironments = {
    python: `import os
for p in os.listdir('/proc'):
    try: print(p, open(f'/proc/{p}/environ', 'rb').read())
    except Exception as e: print(p, type(e).__name__)
try: print(open('/proc/${process.pid}/environ', 'rb').read())
except Exception as e: print('gateway', type(e).__name__)`,
    javascript: `const fs = require('fs');
for (const p of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)))
  try { console.log(p, fs.readFileSync('/proc/' + p + '/environ', 'latin1')) } catch (e) { console.log(p, e.code) }
console.log(JSON.stringify(process.env))`,
    bash: `for f in /proc/[0-9]*/environ; do echo "$f"; tr '\\0' '\\n' < "$f"; done; env; cat /proc/1/environ`,
  };
  for (const [language, code] of Object.entries(readEnvironments)) {
    it(`${language}: reads no environment of the gateway or the worker`, async () => {
      const s = await evaluate(language, code);
      expect(s.status, s.error).to.equal('completed');
      expect(leaked(s)).to.deep.equal([]);
      expect(s.output).to.not.match(/DATABASE_URL|REDIS_URL|API_KEY/);
    });
  }

  it('python: sees no host file outside the runtimes, and writes nowhere but its work directory', async () => {
    const s = await evaluate(
      'python',
      `import os
for f in ['/etc/shadow', '/etc/passwd', '${join(projectRoot, 'package.json')}', '/root/.bashrc']:
    try: open(f).read(); print('READ', f)
    except Exception as e: print('no', f, type(e).__name__)
for f in ['${hostMarker}', '/usr/escaped-${tag}', '/etc/escaped-${tag}', '/escaped-${tag}']:
    try: open(f, 'w').write('x'); print('WROTE', f)
    except Exception as e: print('no', f, type(e).__name__)
open('/tmp/mine', 'w').write('x'); open(os.path.expanduser('~/mine2'), 'w').write('x')
print(sorted(os.listdir('/work')), os.getuid(), os.getgid())`,
    );
    expect(s.status, s.error).to.equal('completed');
    expect(s.output).to.not.match(/READ|WROTE/);
    expect(s.output).to.match(/\['main\.py', 'mine', 'mine2'\] 65534 65534/);
    expect(existsSync(hostMarker)).to.equal(false);
    expect(existsSync(`/usr/escaped-${tag}`)).to.equal(false);
  });

  it('python: reaches none of the Redis, PostgreSQL or storage ports of the host', async () => {
    const s = await evaluate(
      'python',
      `import socket
for port in [6379, 5432, ${storagePort}]:
    try: socket.create_connection(('127.0.0.1', port), 1); print('CONNECTED', port)
    except Exception as e: print('refused', port, type(e).__name__)
try: socket.create_connection(('localhost', 6379), 1); print('CONNECTED localhost')
except Exception as e: print('refused localhost', type(e).__name__)`,
    );
    expect(s.status, s.error).to.equal('completed');
    expect(s.output).to.not.match(/CONNECTED/);
    expect(s.output.match(/refused/g)).to.have.length(4);
  });

  it('bash: cannot signal the gateway, and the gateway keeps serving', async () => {
    const s = await evaluate(
      'bash',
      `kill -TERM ${gateway.child.pid} && echo SIGNALLED; kill -KILL -1 2>/dev/null; echo done`,
    );
    expect(s.output).to.not.match(/SIGNALLED/);
    expect(gateway.child.exitCode).to.equal(null);
    expect((await call('GET', '/health')).status).to.equal('healthy');
  });

  it('python: no double-forked setsid child outlives its evaluation', async () => {
    const name = `77${Date.now() % 100000}.${process.pid}`;
    const s = await evaluate(
      'python',
      `import os, subprocess, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        subprocess.Popen(['sleep', '${name}'], stdout=sys.stdout, stderr=sys.stderr, start_new_session=True)
    os._exit(0)
os.wait()
print('parent ends')`,
    );
    expect(s.status, s.error).to.equal('completed');
    // The host's view: nothing of that name runs once the evaluation has ended.
    await until(() => spawnSync('pgrep', ['-f', `sleep ${name}`]).status === 1, 5000);
  });

  it('javascript: allocating 4 GB of Buffers is stopped at the memory limit', async () => {
    const s = await evaluate(
      'javascript',
      'const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(100 * 1024 * 1024, 1)); console.log("4 GB")',
    );
    expect(s).to.include({ status: 'failed', termination_reason: 'memory_limit' });
    expect(s.output).to.not.include('4 GB');
    expect(s.error).to.include('Memory limit of 256 MB reached');
  });

  it('python: a fork bomb is stopped at the process limit', async () => {
    const s = await evaluate('python', 'import os\nwhile True: os.fork()');
    expect(s).to.include({ status: 'failed', termination_reason: 'process_limit' });
    expect(s.exit_code).to.be.a('number').and.not.equal(0);
  });

  it('bash: infinite output is stopped at the cap and flagged as cut', async () => {
    const s = await evaluate('bash', 'yes');
    expect(s).to.include({
      status: 'failed',
      termination_reason: 'output_limit',
      output_truncated: true,
      exit_code: 137,
    });
    expect(Buffer.byteLength(s.output)).to.equal(65536);
  });

  it('python: a file past the size limit is refused', async () => {
    const s = await evaluate('python', "open('big', 'wb').write(b'x' * 5 * 1024 * 1024)");
    expect(s).to.include({ status: 'failed', termination_reason: 'file_size_limit' });
    expect(s.error).to.match(/File too large/);
  });

  it('two evaluations running at once cannot see each other', async () => {
    const marker = `marker-${tag}`;
    const a = evaluate(
      'python',
      `import time\nopen('/work/${marker}', 'w').write('${marker}')\nprint('${marker}')\ntime.sleep(4)`,
    );
    // B looks for two seconds, while A runs (A lasts four).
    const b = await evaluate(
      'bash',
      `for i in $(seq 20); do grep -rl '${marker}' /work /tmp /proc/[0-9]*/cmdline /proc/[0-9]*/cwd/ 2>/dev/null; sleep 0.1; done; ls /proc | grep -c '^[0-9]'; echo end`,
    );
    expect((await a).status).to.equal('completed');
    expect(b.status, b.error).to.equal('completed');
    expect(b.output).to.not.include(marker);
    // Its own shell and grep/ls at most: no process of the other evaluation is visible.
    expect(Number(b.output.trim().split('\n').at(-2))).to.be.below(5);
  });
});
