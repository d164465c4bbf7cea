import { expect } from 'chai';
import { createWebhookPost } from '../../clients/webhook-post.js';
import { isPrivateAddress, refusedCallback } from '../../lib/http/public-address.js';
import { Webhooks } from '../../core/webhooks.js';
import type { WebhooksDeps } from '../../core/webhooks.js';

describe('webhook rules: private addresses, connection-time checks, backoff', () => {
  it('tells private addresses from public ones, IPv4-mapped IPv6 included', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ])
      expect(isPrivateAddress(a), a).to.equal(true);
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(a), a).to.equal(false);
  });

  it('refuses what is not http(s) and what carries credentials, whatever is allowed', async () => {
    expect(await refusedCallback('ftp://example.com/x', true)).to.match(/http or https/);
    expect(await refusedCallback('https://u:p@example.com/x', true)).to.match(/credentials/);
    expect(await refusedCallback('http://127.0.0.1:1/x', true)).to.equal(undefined);
  });

  it('refuses a name that resolves inside at connection time (no request is made)', async () => {
    const post = createWebhookPost(false);
    let error: unknown;
    try {
      await post('http://localhost:9/hook', {}, '{}', 1000);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/private address/);
  });

  it('backs off exponentially with jitter within [0.5, 1.5) of the doubled delay, up to an hour', () => {
    const at = (random: number) =>
      new Webhooks({
        settings: { retryMs: 1000 },
        random: () => random,
      } as unknown as WebhooksDeps);
    expect(at(0).backoffMs(1)).to.equal(500);
    expect(at(0.999).backoffMs(1)).to.equal(1499);
    expect(at(0).backoffMs(4)).to.equal(4000);
    expect(at(0.5).backoffMs(30)).to.equal(3_600_000);
  });
});
