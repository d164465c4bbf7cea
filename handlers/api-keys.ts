import type { ApiKeyRecord } from '../core/api-keys.js';
import type { Deps, Handler } from './types.js';

/** A key as the API shows it: never its hash. */
export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    prefix: k.prefix,
    owner: k.owner,
    scopes: [...k.scopes],
    name: k.name,
    rate_limit_per_minute: k.rate_limit_per_minute,
    max_concurrent: k.max_concurrent,
    created_at: k.created_at.toISOString(),
    revoked_at: k.revoked_at ? k.revoked_at.toISOString() : null,
  };
}

export function createApiKey({ keys }: Deps): Handler<'createApiKey'> {
  return async ({ body }) => {
    const { key, secret } = await keys.create(body.owner, body.scopes, body.name ?? null, body);
    return { status: 201, body: { ...keyView(key), secret } };
  };
}

export function listApiKeys({ keys }: Deps): Handler<'listApiKeys'> {
  return async ({ query }) => ({
    status: 200,
    body: { keys: (await keys.list(query.owner)).map(keyView) },
  });
}

export function rotateApiKey({ keys }: Deps): Handler<'rotateApiKey'> {
  return async ({ params }) => {
    const { key, secret } = await keys.rotate(params.key_id);
    return { status: 200, body: { ...keyView(key), secret } };
  };
}

export function revokeApiKey({ keys }: Deps): Handler<'revokeApiKey'> {
  return async ({ params }) => ({ status: 200, body: keyView(await keys.revoke(params.key_id)) });
}
