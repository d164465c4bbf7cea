import type { Deps, Handler } from './types.js';
import { summaryView } from './views.js';

export function listEvaluations({ storage }: Deps): Handler<'listEvaluations'> {
  return async ({ query }) => {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const page = await storage.list({
      limit,
      offset,
      status: query.status,
      language: query.language,
    });
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
