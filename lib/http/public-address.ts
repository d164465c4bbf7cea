import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Addresses a callback may not reach: loopback, private, link-local, shared, reserved. */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast and reserved, up to 255.255.255.255
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127], // :: and ::1
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Whether `address` (an IP literal) is one a callback may not reach. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Why `url` may not be a callback, or undefined when it may: http(s) only, no credentials in it,
 * and, unless `allowPrivate`, a host that is not (and does not resolve to) a private address.
 */
export async function refusedCallback(
  url: string,
  allowPrivate: boolean,
): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be http or https';
  if (u.username || u.password) return 'must not carry credentials';
  if (allowPrivate) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return `names a host that does not resolve (${host})`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad
    ? `reaches a loopback, private or link-local address (${bad}); the deployment does not allow that`
    : undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that refuses private addresses at connection time, so a name that
 * resolved to a public address when it was checked cannot point inside later (DNS rebinding).
 */
export function publicOnlyLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, found) => {
    if (err) return callback(err, '');
    const bad = found.find((a) => isPrivateAddress(a.address));
    if (bad) {
      const refused = new Error(`${hostname} resolves to a private address (${bad.address})`);
      return callback(Object.assign(refused, { code: 'EPRIVATE' }), '');
    }
    if (options.all) return callback(null, found);
    callback(null, found[0]!.address, found[0]!.family);
  });
}
