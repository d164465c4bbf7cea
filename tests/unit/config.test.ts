import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { CONFIG_SCHEMA } from '../../lib/config-schema.js';
import { projectRoot } from '../../lib/paths.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.gateway).to.include({
      port: 8080,
      embedded: true,
      host: '127.0.0.1',
      queueServiceUrl: 'http://queue:8081',
      storageServiceUrl: 'http://storage-service:8082',
      logLevel: 'info',
      enableCaching: false,
      internalApiKey: 'dev-internal-api-key',
      internalApiKeyIsDefault: true,
      rateLimitPerMinute: 0,
    });
    expect(c.jobQueue).to.include({ enabled: false, share: 0.5, name: 'evaluations' });
    expect(c.limits).to.deep.equal({
      memoryMb: 512,
      outputBytes: 1048576,
      maxProcesses: 64,
      fileSizeMb: 16,
      diskMb: 64,
      openFiles: 256,
    });
    expect(c.worker).to.include({ sandbox: 'auto', concurrency: 2 });
    expect(c.health).to.deep.equal({ intervalMs: 1000, graceMs: 120000, graceIntervalMs: 500 });
    expect(c.gateway.redisUrl).to.equal(undefined);
    expect(c.gateway.allowedLanguages).to.deep.equal(['python']);
  });

  it("takes the brief's Redis beside external services: the brief's Compose environment loads", () => {
    const brief = {
      CELERY_ENABLED: 'true',
      CELERY_PERCENTAGE: '0.5',
      QUEUE_SERVICE_URL: 'http://queue:8081',
      STORAGE_SERVICE_URL: 'http://storage-service:8082',
    };
    const c = loadConfig(brief);
    expect(c.gateway.redisUrl).to.equal('redis://redis:6379');
    expect(c.jobQueue).to.include({ enabled: true, redisUrl: 'redis://redis:6379', share: 0.5 });
    // REDIS_URL=none: no Redis in any mode; then the job queue needs a broker of its own.
    expect(
      loadConfig({ ...brief, CELERY_ENABLED: 'false', REDIS_URL: 'none' }).gateway.redisUrl,
    ).to.equal(undefined);
    expect(() => loadConfig({ ...brief, REDIS_URL: 'none' })).to.throw(/needs CELERY_BROKER_URL/);
  });

  it('reads the brief names and is frozen', () => {
    const c = loadConfig({
      QUEUE_SERVICE_URL: 'http://q:1/',
      STORAGE_SERVICE_URL: 'http://s:2',
      REDIS_URL: 'redis://r:6379',
      CELERY_ENABLED: 'TRUE',
      CELERY_PERCENTAGE: '0.3',
      LOG_LEVEL: 'WARNING',
      ENABLE_CACHING: 'true',
      INTERNAL_API_KEY: 'k',
      ALLOWED_LANGUAGES: 'python, node',
    });
    expect(c.gateway).to.include({
      queueServiceUrl: 'http://q:1',
      embedded: false,
      host: '0.0.0.0',
      logLevel: 'warn',
      internalApiKey: 'k',
    });
    expect(c.jobQueue).to.include({ enabled: true, share: 0.3 });
    expect(c.jobQueue.redisUrl).to.equal('redis://r:6379'); // falls back to REDIS_URL
    expect(c.gateway.allowedLanguages).to.deep.equal(['python', 'node']);
    expect(Object.isFrozen(c)).to.equal(true);
    expect(Object.isFrozen(c.gateway)).to.equal(true);
    expect(Object.isFrozen(c.gateway.allowedLanguages)).to.equal(true);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /^PORT=eighty: expected a whole number/],
    [{ PORT: '70000' }, /^PORT=70000/],
    [{ CELERY_PERCENTAGE: '50' }, /^CELERY_PERCENTAGE=50: expected a number from 0 to 1/],
    [{ CELERY_PERCENTAGE: 'half' }, /^CELERY_PERCENTAGE=half/],
    [{ CELERY_ENABLED: 'maybe' }, /^CELERY_ENABLED=maybe: expected true or false/],
    [
      { QUEUE_SERVICE_URL: 'queue:8081', STORAGE_SERVICE_URL: 'http://s' },
      /^QUEUE_SERVICE_URL=queue:8081: expected a http: or https: URL/,
    ],
    [{ REDIS_URL: 'http://r' }, /^REDIS_URL=http:\/\/r: expected a redis: or rediss: URL/],
    [{ REDIS_URL: 'redis://[r' }, /^REDIS_URL=redis:\/\/\[r: expected a redis: or rediss: URL/],
    [{ QUEUE_SERVICE_URL: 'http://q' }, /^QUEUE_SERVICE_URL and STORAGE_SERVICE_URL: set both/],
    [{ WORKER_CONCURRENCY: '0' }, /^WORKER_CONCURRENCY=0/],
    [{ DATABASE_URL: 'mysql://u:secret@h/db' }, /^DATABASE_URL=mysql:\/\/u:\*\*\*@h\/db/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL=loud/],
    [
      { CELERY_ENABLED: 'true' },
      /^CELERY_ENABLED=true needs CELERY_BROKER_URL \(or BULL_REDIS_URL\) or REDIS_URL/,
    ],
    [{ EXECUTOR_URLS: 'e1=ftp://x' }, /^EXECUTOR_URLS entry "e1=ftp:\/\/x"/],
    [{ EXECUTOR_URL_TEMPLATE: 'http://exec:8083' }, /must contain \{executor_id\}/],
    [{ ALLOWED_LANGUAGES: 'Python 3' }, /^ALLOWED_LANGUAGES entry "Python 3"/],
  ];
  for (const [env, message] of bad) {
    it(`stops on ${JSON.stringify(env)}, naming the variable`, () => {
      const problems = problemsOf(env);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(message);
    });
  }

  it('reports every bad variable at once, and never prints a password', () => {
    const problems = problemsOf({
      PORT: 'x',
      CELERY_PERCENTAGE: '2',
      REDIS_URL: 'ftp://u:hunter2@h',
    });
    expect(problems).to.have.length(3);
    expect(problems.join('\n')).not.to.include('hunter2');
  });

  it('accepts the BULL_* names for the CELERY_* settings, and refuses the two set differently', () => {
    const c = loadConfig({
      BULL_ENABLED: 'true',
      BULL_PERCENTAGE: '0.9',
      BULL_REDIS_URL: 'redis://b:6379',
    });
    expect(c.jobQueue).to.include({ enabled: true, share: 0.9, redisUrl: 'redis://b:6379' });
    expect(problemsOf({ CELERY_PERCENTAGE: '0.1', BULL_PERCENTAGE: '0.2' })).to.deep.equal([
      'CELERY_PERCENTAGE and BULL_PERCENTAGE are both set, to different values',
    ]);
    expect(problemsOf({ BULL_PREFIX: 'bad prefix!' })[0]).to.match(/^BULL_PREFIX=bad prefix!/);
    expect(problemsOf({ DATABASE_SCHEMA: 'x"; drop' })[0]).to.match(/^DATABASE_SCHEMA=/);
  });

  it('names every setting of the schema after a variable the README documents', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const names: string[] = [];
    const walk = (s: any): void => {
      if (s['x-env']) names.push(s['x-env']);
      for (const p of Object.values(s.properties ?? {})) walk(p);
    };
    walk(CONFIG_SCHEMA);
    expect(names).to.have.length.above(50);
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).to.deep.equal([]);
  });

  it('parses EXECUTOR_URLS as id=url pairs or bare URLs named by host', () => {
    const c = loadConfig({ EXECUTOR_URLS: 'a=http://h1:1, http://exec-2:8083/' });
    expect(c.gateway.executors).to.deep.equal([
      { id: 'a', url: 'http://h1:1' },
      { id: 'exec-2', url: 'http://exec-2:8083' },
    ]);
  });
});
