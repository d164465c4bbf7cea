import type { IncomingMessage } from 'node:http';
import type { Config } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import { header } from '../../lib/http/body.js';
import type { RouteOperation } from '../../lib/http/router.js';
import { digest, keyMatches } from '../../lib/keys.js';

/**
 * Stage 4: the credentials an operation's security asks for, checked before anything else is
 * done for the request (401/403, RFC 9110 §15.5.2, §15.5.4). Answers who is calling: the
 * fingerprint of its key, else its address.
 */
export function createAuthenticator(
  config: Pick<Config['gateway'], 'apiKeys' | 'adminApiKey'>,
): (op: RouteOperation, req: IncomingMessage) => string {
  const apiKeys = config.apiKeys.map(digest);
  const adminKeys = config.adminApiKey ? [digest(config.adminApiKey)] : [];

  function check(op: RouteOperation, req: IncomingMessage): string | undefined {
    const clientKey = header(req, 'x-api-key');
    const clientOk = apiKeys.length === 0 || keyMatches(clientKey, apiKeys);
    if (op.schemes.includes('AdminKey')) {
      if (adminKeys.length === 0) {
        throw new GatewayError(
          'GW_ERR_FORBIDDEN',
          'Admin operations are disabled on this gateway (ADMIN_API_KEY is not set)',
        );
      }
      const adminKey = header(req, 'x-admin-key');
      if (keyMatches(adminKey, adminKeys)) return adminKey;
      if (adminKey === undefined && apiKeys.length > 0 && keyMatches(clientKey, apiKeys)) {
        throw new GatewayError(
          'GW_ERR_FORBIDDEN',
          'This operation needs the admin key in X-Admin-Key',
        );
      }
      throw new GatewayError('GW_ERR_UNAUTHORIZED', 'A valid X-Admin-Key header is required');
    }
    if (op.schemes.includes('ApiKey') && !clientOk) {
      throw new GatewayError('GW_ERR_UNAUTHORIZED', 'A valid X-API-Key header is required');
    }
    return clientKey;
  }

  return (op, req) => {
    const key = check(op, req);
    return key
      ? `key:${digest(key).toString('hex').slice(0, 16)}`
      : `ip:${req.socket.remoteAddress ?? '?'}`;
  };
}

/** Whether a WebSocket upgrade carries a client key (browsers may send it in the URL). */
export function createUpgradeCheck(
  config: Pick<Config['gateway'], 'apiKeys'>,
): (req: IncomingMessage, url: URL) => boolean {
  const apiKeys = config.apiKeys.map(digest);
  return (req, url) =>
    apiKeys.length === 0 ||
    keyMatches(header(req, 'x-api-key') ?? url.searchParams.get('api_key') ?? undefined, apiKeys);
}
