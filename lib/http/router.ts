/** An operation of the spec as the listener needs it before openapi-backend sees the request. */
export interface RouteOperation {
  operationId: string;
  method: string;
  path: string;
  /** Names of the security schemes any of its requirements mention. */
  schemes: string[];
  hasBody: boolean;
  /** The scope a caller needs (the spec's `x-required-scope`), if any. */
  scope?: string;
  /** The query parameters it declares; any other is ignored (a cache buster, a probe's tag). */
  query: ReadonlySet<string>;
}

export type Match =
  | {
      kind: 'found';
      op: RouteOperation;
      params: Record<string, string>;
      /** A path parameter that is not valid percent-encoding (kept as sent in `params`). */
      undecodable?: string;
    }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

interface Template {
  regex: RegExp;
  /** The names of its `{params}`, in the order of the regex's groups. */
  names: string[];
  specificity: number;
  byMethod: Map<string, RouteOperation>;
}

/** Path parameters, percent-decoded; one that cannot be decoded is kept as sent, and named. */
function paramsOf(
  names: string[],
  found: RegExpExecArray,
): { params: Record<string, string>; undecodable?: string } {
  const params: Record<string, string> = {};
  let undecodable: string | undefined;
  names.forEach((name, i) => {
    const raw = found[i + 1] ?? '';
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      params[name] = raw;
      undecodable ??= name;
    }
  });
  return undecodable === undefined ? { params } : { params, undecodable };
}

/**
 * Matches method and path against the spec's operations with one map look-up for fixed paths and
 * one precompiled regex per templated path, so 404 and 405 are answered, and credentials checked,
 * before a body is read.
 */
export class Router {
  private readonly exact = new Map<string, Map<string, RouteOperation>>();
  private readonly templates: Template[] = [];

  constructor(operations: RouteOperation[]) {
    const templated = new Map<string, Template>();
    for (const op of operations) {
      if (op.path.includes('{')) {
        let t = templated.get(op.path);
        if (!t) {
          const pattern = op.path
            .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
            .replace(/\{[^}]+\}/g, '([^/]+)');
          t = {
            regex: new RegExp(`^${pattern}$`),
            names: [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
            specificity: op.path.replace(/\{[^}]+\}/g, '').length,
            byMethod: new Map(),
          };
          templated.set(op.path, t);
        }
        t.byMethod.set(op.method, op);
      } else {
        let m = this.exact.get(op.path);
        if (!m) this.exact.set(op.path, (m = new Map<string, RouteOperation>()));
        m.set(op.method, op);
      }
    }
    // Most specific first, as openapi-backend orders them.
    this.templates = [...templated.values()].sort((a, b) => b.specificity - a.specificity);
  }

  match(method: string, path: string): Match {
    const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const m = method.toLowerCase();
    const allow: string[] = [];
    const exact = this.exact.get(normalized);
    if (exact) {
      const op = exact.get(m);
      if (op) return { kind: 'found', op, params: {} };
      allow.push(...exact.keys());
    }
    for (const t of this.templates) {
      const found = t.regex.exec(normalized);
      if (!found) continue;
      const op = t.byMethod.get(m);
      if (op) return { kind: 'found', op, ...paramsOf(t.names, found) };
      allow.push(...t.byMethod.keys());
    }
    return allow.length
      ? { kind: 'method', allow: [...new Set(allow)].map((a) => a.toUpperCase()) }
      : { kind: 'none' };
  }
}
