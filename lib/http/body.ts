import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The first value of a request header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const length = Number(header(req, 'content-length') ?? 0);
  const chunked = header(req, 'transfer-encoding') !== undefined;
  if (length > maxBytes) {
    return Promise.reject(
      new GatewayError(
        'GW_ERR_PAYLOAD_TOO_LARGE',
        `The request body is ${length} bytes; the limit is ${maxBytes}`,
      ),
    );
  }
  if (!chunked && length === 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          new GatewayError(
            'GW_ERR_PAYLOAD_TOO_LARGE',
            `The request body is over the limit of ${maxBytes} bytes`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(
        size === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size),
      ),
    );
    req.on('error', reject);
  });
}

/** The offset of the first byte that breaks UTF-8 (only asked once `isUtf8` said no). */
function firstInvalidByte(raw: Buffer): number {
  let lo = 0;
  let hi = raw.length;
  // The longest valid prefix, by halving: streaming, a prefix fails to decode only when it holds
  // a bad byte (a sequence cut at its end waits for more).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(raw.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

function parseBody(req: IncomingMessage, raw: Buffer | undefined): unknown {
  if (raw === undefined) return undefined;
  const type = header(req, 'content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new GatewayError(
      'GW_ERR_UNSUPPORTED_MEDIA_TYPE',
      `The body must be application/json, not ${type || 'untyped'}`,
    );
  }
  // JSON text is UTF-8 (RFC 8259): bytes that are not are refused, never silently replaced.
  if (!isUtf8(raw)) {
    throw new GatewayError(
      'GW_ERR_MALFORMED_JSON',
      `The request body is not valid UTF-8 (byte ${firstInvalidByte(raw)})`,
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new GatewayError(
      'GW_ERR_MALFORMED_JSON',
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/**
 * Reads and parses a JSON request body of at most `maxBytes`: undefined when there is none,
 * 413 beyond the limit (announced or streamed), 415 when it is not JSON, 400 when it does not parse.
 */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseBody(req, await readBody(req, maxBytes));
}

/** Like readJson, with the bytes as they came (for a signature over them). */
export async function readJsonRaw(
  req: IncomingMessage,
  maxBytes: number,
): Promise<{ raw: Buffer | undefined; body: unknown }> {
  const raw = await readBody(req, maxBytes);
  return { raw, body: parseBody(req, raw) };
}
