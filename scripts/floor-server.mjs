// The floor: a raw node:http server answering the benchmark's routes with bodies like the
// gateway's and no validation — the physical limit for Node on this machine. It also plays the
// services behind the gateway (queue and storage) when the gateway is measured.
//   node scripts/floor-server.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 18600);
const MAX_BODY = 2 * 1024 * 1024;
const started = Date.now();
const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};
const evaluation = (id) => ({
  id,
  status: 'completed',
  code: 'print(1)',
  language: 'python',
  created_at: '2024-07-01T12:00:00Z',
  started_at: '2024-07-01T12:00:01Z',
  completed_at: '2024-07-01T12:00:05Z',
  output: 'Starting...\nDone!\n',
  error: '',
  output_truncated: false,
  error_truncated: false,
  runtime_ms: 2031,
  exit_code: 0,
  executor_id: 'executor-1',
  metadata: {},
});

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
    return json(res, 413, {
      type: 'urn:crucible:problem:payload-too-large',
      title: 'Payload too large',
      status: 413,
      detail: 'The request body is over the limit',
      code: 'GW_ERR_PAYLOAD_TOO_LARGE',
    });
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    // Public routes, answered as the gateway answers them.
    if (url === '/health')
      return json(res, 200, {
        status: 'healthy',
        service: 'api-gateway',
        version: '0.1.0',
        uptime_seconds: (Date.now() - started) / 1000,
        timestamp: new Date().toISOString(),
      });
    if (url === '/api/eval')
      return json(res, 202, {
        eval_id: 'eval_20240701_120000_abc123def456',
        status: 'queued',
        message: 'Evaluation queued successfully',
        queue_position: 0,
        backend: 'legacy',
        fallback: false,
      });
    if (url === '/api/eval-batch') {
      const evaluations = Array.from({ length: 100 }, (_, index) => ({
        index,
        eval_id: 'eval_20240701_120000_abc123def456',
        status: 'queued',
        queue_position: 0,
        backend: 'legacy',
        fallback: false,
      }));
      return json(res, 202, { total: 100, queued: 100, failed: 0, evaluations });
    }
    if (url.startsWith('/api/eval-status/')) {
      const e = evaluation(url.slice('/api/eval-status/'.length));
      return json(res, 200, {
        eval_id: e.id,
        status: e.status,
        language: e.language,
        created_at: e.created_at,
        started_at: e.started_at,
        completed_at: e.completed_at,
        output: e.output,
        error: e.error,
        success: true,
        exit_code: 0,
        runtime_ms: e.runtime_ms,
        output_truncated: false,
        error_truncated: false,
        executor_id: e.executor_id,
      });
    }
    // The services behind the gateway.
    if (url === '/tasks' && req.method === 'POST') {
      const { eval_id } = JSON.parse(Buffer.concat(chunks).toString());
      return json(res, 200, { eval_id, status: 'queued', position: 0 });
    }
    if (url.startsWith('/evaluations/'))
      return json(res, 200, evaluation(url.slice('/evaluations/'.length)));
    if (url === '/status')
      return json(res, 200, { queued: 0, processing: 0, queue_length: 0, total_tasks: 0 });
    if (url === '/healthz') return json(res, 200, { status: 'ok' });
    json(res, 404, { detail: 'Not Found' });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
