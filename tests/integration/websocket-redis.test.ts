import { expect } from 'chai';
import nock from 'nock';
import { connect, startWsGateway, submit } from '../helpers/ws-client.js';
import { REDIS_URL } from '../helpers/services.js';

describe('WS fan-out across gateway instances (real Redis)', function () {
  this.timeout(30_000);
  before(() => nock.enableNetConnect());

  it('a client on instance B sees the events of a submission made through instance A', async () => {
    // A runs the embedded platform; B is a second gateway in front of the same services. They
    // share a key of their own: an embedded platform would otherwise make a new one at start.
    const INTERNAL_API_KEY = 'ws-fan-out-test-key';
    const a = await startWsGateway({ REDIS_URL, INTERNAL_API_KEY });
    const b = await startWsGateway({
      REDIS_URL,
      INTERNAL_API_KEY,
      QUEUE_SERVICE_URL: a.gw.config.gateway.queueServiceUrl,
      STORAGE_SERVICE_URL: a.gw.config.gateway.storageServiceUrl,
    });
    try {
      expect(b.gw.platform).to.equal(undefined);
      const onB = await connect(`${b.ws}?all=true`);
      await onB.next((m) => m.type === 'subscribed');
      await b.gw.deps.events.subscribed();
      const id = await submit(a.http, { code: 'print("across")' });
      const done = await onB.next(
        (m) => m.type === 'event' && m.eval_id === id && m.status === 'completed',
      );
      expect(done.payload.output).to.equal('across\n');
      const states = onB.messages.filter((m) => m.eval_id === id).map((m) => m.status);
      expect(states).to.deep.equal(['submitted', 'queued', 'running', 'completed']);
      // And a subscription by id on B starts from the snapshot B reads through the shared storage.
      const late = await connect(`${b.ws}?eval_id=${id}`);
      expect(await late.next((m) => m.type === 'snapshot')).to.include({
        eval_id: id,
        status: 'completed',
      });
      onB.close();
      late.close();
    } finally {
      await b.gw.close();
      await a.gw.close();
    }
  });
});
