import { expect } from 'chai';
import nock from 'nock';
import { createInProcessEventBus } from '../../clients/event-bus.js';
import { createQueueService } from '../../clients/queue-service.js';
import { createStorageService } from '../../clients/storage-service.js';
import { newEvalId } from '../../core/ids.js';
import { silentLogger } from '../../lib/logger.js';
import type { ContractServer } from '../../platform/contract-server.js';
import { LocalExecutor } from '../../platform/local-executor.js';
import { startQueueServer } from '../../platform/queue-server.js';
import { createMemoryData } from '../../platform/storage-data.js';
import { Storage, startStorageServer } from '../../platform/storage-server.js';
import { Worker } from '../../platform/worker.js';
import { until } from '../helpers/services.js';

const KEY = 'worker-test-key';

/** A worker on the reference queue and storage services: what it records and announces. */
describe('the worker records and announces how each run ended (reference services, sandbox)', function () {
  this.timeout(30_000);
  const logger = silentLogger();
  const servers: ContractServer[] = [];
  const events = createInProcessEventBus();
  const seen: { channel: string; payload: any }[] = [];
  let storage: ReturnType<typeof createStorageService>;
  let queue: ReturnType<typeof createQueueService>;
  let worker: Worker;

  before(async () => {
    nock.enableNetConnect();
    const url = async (s: Promise<ContractServer>): Promise<string> => {
      const server = await s;
      servers.push(server);
      return `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    };
    const http = { apiKey: KEY, timeoutMs: 5000, retries: 0 };
    queue = createQueueService({
      ...http,
      baseUrl: await url(startQueueServer({ apiKey: KEY, logger })),
    });
    const st = new Storage(createMemoryData());
    storage = createStorageService({
      ...http,
      baseUrl: await url(startStorageServer({ storage: st, apiKey: KEY, logger })),
    });
    events.subscribe((channel, payload) => seen.push({ channel, payload }));
    worker = new Worker({
      executor: new LocalExecutor('worker-test', 2, { sandbox: 'bwrap' }),
      queue,
      storage,
      events,
      concurrency: 2,
      pollMs: 20,
      limits: { memoryMb: 128, outputBytes: 1000 },
      logger,
    });
    await worker.start();
  });
  after(async () => {
    await worker.stop();
    for (const s of servers) await s.close();
  });

  async function runToEnd(code: string, timeout = 5): Promise<{ record: any; event: any }> {
    const id = newEvalId();
    await queue.submit({ eval_id: id, code, language: 'python', timeout, priority: 1 });
    let event: any;
    await until(() => {
      event = seen.find(
        (e) => e.payload.eval_id === id && /completed|failed/.test(e.channel),
      )?.payload;
      return event !== undefined;
    }, 15_000);
    return { record: await storage.find(id), event };
  }

  it('a timeout: failed at "timeout", exit code 124, in the event and in storage', async () => {
    const { record, event } = await runToEnd('while True: pass', 1);
    expect(event).to.include({
      failed_at: 'timeout',
      exit_code: 124,
      termination_reason: 'timeout',
    });
    expect(record).to.include({ status: 'failed', exit_code: 124, termination_reason: 'timeout' });
  });

  it('output past the executor cap: storage says it was cut, though it is far under its own cap', async () => {
    const { record, event } = await runToEnd('print("x" * 5000)');
    expect(event).to.include({ failed_at: 'execute', termination_reason: 'output_limit' });
    expect(record).to.include({ status: 'failed', output_truncated: true, error_truncated: false });
    expect(record.output).to.have.length(1000);
  });

  it('a clean run: completed, exited, nothing cut', async () => {
    const { record, event } = await runToEnd('print("ok")');
    expect(event).to.include({ status: 'completed', termination_reason: 'exited', exit_code: 0 });
    expect(record).to.include({ status: 'completed', output: 'ok\n', output_truncated: false });
  });
});
