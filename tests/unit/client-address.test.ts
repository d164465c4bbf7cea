import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { createClientAddress } from '../../lib/http/client-address.js';

const req = (remote: string, forwarded?: string): IncomingMessage =>
  ({
    socket: { remoteAddress: remote },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  }) as unknown as IncomingMessage;

describe('the client address (TRUST_PROXY)', () => {
  it('is the peer itself when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(createClientAddress([])(req('203.0.113.9', '1.2.3.4'))).to.equal('203.0.113.9');
  });

  it('is read from X-Forwarded-For behind a trusted proxy: the rightmost address not a proxy', () => {
    const address = createClientAddress(['10.0.0.0/8', '192.0.2.1']);
    // The client wrote "6.6.6.6" itself; the proxies appended what they saw.
    expect(address(req('10.1.2.3', '6.6.6.6, 198.51.100.7, 192.0.2.1'))).to.equal('198.51.100.7');
    expect(address(req('::ffff:10.1.2.3', '198.51.100.8'))).to.equal('198.51.100.8');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const address = createClientAddress(['10.0.0.0/8']);
    expect(address(req('198.51.100.7', '10.9.9.9'))).to.equal('198.51.100.7');
  });

  it('takes IPv6 proxies and subnets too', () => {
    const address = createClientAddress(['2001:db8::/32']);
    expect(address(req('2001:db8::1', '2001:db9::5'))).to.equal('2001:db9::5');
  });
});
