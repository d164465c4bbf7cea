import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { WebhookPost } from '../core/ports/webhooks.js';
import { isPrivateAddress, publicOnlyLookup } from '../lib/http/public-address.js';

/** Answers longer than this are not read (the status is what counts). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs a webhook. Unless `allowPrivate`, a private address is refused at connection time — a
 * name is checked as it is resolved for this very connection, so it cannot be rebound inside
 * after the check at submit. No redirect is followed (a 3xx is a failed attempt).
 */
export function createWebhookPost(allowPrivate: boolean): WebhookPost {
  return (url, headers, body, timeoutMs) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      if (!allowPrivate && isIP(host) && isPrivateAddress(host)) {
        reject(new Error(`${host} is a private address`));
        return;
      }
      const request = (u.protocol === 'https:' ? https : http).request(
        u,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          ...(allowPrivate ? {} : { lookup: publicOnlyLookup }),
          agent: false,
        },
        (res) => {
          let read = 0;
          res.on('data', (c: Buffer) => {
            read += c.length;
            if (read > MAX_ANSWER_BYTES) res.destroy();
          });
          res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', () => undefined);
        },
      );
      // The whole call, a receiver that trickles its answer included.
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on('close', () => clearTimeout(timer));
      request.on('error', reject);
      request.end(body);
    });
}
