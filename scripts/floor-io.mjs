// The I/O floor: a raw node:http server that does a submit's and a status read's downstream work
// with the gateway's own clients' libraries and nothing else — no routing, validation, record or
// checks. A legacy submit posts the task to the queue service and publishes two events on Redis;
// a Bull submit adds the job and publishes the same two events; a status read gets the
// evaluation from storage and reshapes it. What the gateway adds is measured against it.
//   node scripts/floor-io.mjs PORT DOWNSTREAM_URL REDIS_URL BULL_PREFIX
import http from 'node:http';
import { URL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import Bull from 'bull';

const [port, downstream, redisUrl, bullPrefix] = process.argv.slice(2);
const base = new URL(downstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
const pub = new Redis(redisUrl, { enableAutoPipelining: true, enableOfflineQueue: false });
const queue = new Bull('evaluations', redisUrl, { prefix: bullPrefix });

const call = (method, path, body) =>
  new Promise((resolve, reject) => {
    const headers = { accept: 'application/json', 'x-api-key': 'bench' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = http.request({
      agent,
      host: base.hostname,
      port: base.port,
      method,
      path,
      headers,
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.once('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    });
    req.end(body);
  });

const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

async function submit(body, bull) {
  const e = JSON.parse(body);
  const eval_id = `eval_20240701_120000_${randomBytes(6).toString('hex')}`;
  const metadata = { submitted_at: new Date().toISOString(), timeout: e.timeout, priority: false };
  await pub.publish(
    'evaluation:submitted',
    JSON.stringify({ eval_id, language: e.language, metadata }),
  );
  let position = null;
  if (bull) await queue.add({ eval_id, ...e }, { jobId: eval_id, removeOnComplete: true });
  else
    position = (await call('POST', '/tasks', JSON.stringify({ eval_id, ...e, engine: 'docker' })))
      .position;
  await pub.publish(
    'evaluation:queued',
    JSON.stringify({ eval_id, code: e.code, language: e.language, metadata }),
  );
  return {
    eval_id,
    status: 'queued',
    message: 'Evaluation queued successfully',
    queue_position: position,
    backend: bull ? 'bull' : 'legacy',
    fallback: false,
  };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    const done = (status, p) =>
      p.then(
        (b) => json(res, status, b),
        () => json(res, 503, {}),
      );
    if (url === '/health') return json(res, 200, { status: 'healthy' });
    if (url === '/api/eval' || url === '/api/eval?bull')
      return done(202, submit(Buffer.concat(chunks).toString(), url.endsWith('bull')));
    if (url.startsWith('/api/eval-status/'))
      return done(
        200,
        call('GET', `/evaluations/${url.slice('/api/eval-status/'.length)}`).then((e) => ({
          eval_id: e.id,
          ...e,
        })),
      );
    json(res, 404, {});
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
