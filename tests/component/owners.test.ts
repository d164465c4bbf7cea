import { expect } from 'chai';
import type { Gateway } from '../../server/compose.js';
import { until } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';

/**
 * Owners end to end with the embedded platform behind the gateway: the owner of the key that
 * submitted an evaluation travels with it to storage, so each team's history holds its own
 * evaluations only, with their code.
 */
describe('owners through the whole platform (embedded)', function () {
  this.timeout(60_000);
  let gateway: Gateway;
  let base: string;
  const admin = { 'x-admin-key': 'owners-admin', 'content-type': 'application/json' };

  before(async () => {
    ({ gateway, base } = await startEmbedded({ ADMIN_API_KEY: 'owners-admin' }));
  });
  after(() => gateway?.close());

  const key = async (owner: string): Promise<string> => {
    const r = await fetch(`${base}/api/admin/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ owner, scopes: ['evaluations:read', 'evaluations:write'] }),
    });
    return ((await r.json()) as { secret: string }).secret;
  };
  const history = async (secret: string): Promise<string[]> => {
    const r = await fetch(`${base}/api/evaluations?limit=100`, {
      headers: { 'x-api-key': secret },
    });
    return ((await r.json()) as { evaluations: { eval_id: string }[] }).evaluations.map(
      (e) => e.eval_id,
    );
  };

  it("shows each team its own history, never another team's code", async () => {
    const [a, b] = [await key('team-a'), await key('team-b')];
    const r = await fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'x-api-key': a, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'print("team a secret")' }),
    });
    expect(r.status).to.equal(202);
    const { eval_id } = (await r.json()) as { eval_id: string };
    await until(async () => (await history(a)).includes(eval_id), 20_000);
    expect(await history(b)).to.not.include(eval_id);
    const read = await fetch(`${base}/api/eval/${eval_id}`, { headers: { 'x-api-key': b } });
    expect(read.status).to.equal(404);
  });
});
