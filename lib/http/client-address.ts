import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The address of whoever sent a request. Behind proxies listed in TRUST_PROXY (addresses or
 * CIDRs), it is read from `X-Forwarded-For`, right to left, skipping those proxies: the first
 * address not trusted is the client (anything left of it could have been written by the client).
 */
export function createClientAddress(trusted: readonly string[]): (req: IncomingMessage) => string {
  const list = new BlockList();
  for (const entry of trusted) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  const isTrusted = (a: string): boolean => {
    const plain = a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
    const type = isIP(plain);
    return type !== 0 && list.check(plain, type === 6 ? 'ipv6' : 'ipv4');
  };
  return (req) => {
    const remote = req.socket.remoteAddress ?? '?';
    if (trusted.length === 0 || !isTrusted(remote)) return remote;
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!isTrusted(hops[i]!)) return hops[i]!;
    return hops[0] ?? remote;
  };
}
