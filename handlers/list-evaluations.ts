import { isAdmin } from '../core/identity.js';
import type { Deps, Handler } from './types.js';
import { summaryView } from './views.js';

export function listEvaluations({ storage }: Deps): Handler<'listEvaluations'> {
  return async ({ query, identity, trace }) => {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const page = await storage.list(
      {
        limit,
        offset,
        status: query.status,
        language: query.language,
        // A key lists its own owner's evaluations; an admin, and an open gateway, all of them.
        ...(isAdmin(identity) || identity.via.kind === 'open' ? {} : { owner: identity.owner }),
      },
      trace,
    );
    const evaluations = page.evaluations.slice(0, limit).map(summaryView);
    return {
      status: 200,
      body: {
        evaluations,
        total: page.total,
        limit,
        offset,
        // Derived here rather than trusted: more exist when this page does not reach the total.
        has_more: offset + evaluations.length < page.total,
      },
    };
  };
}
