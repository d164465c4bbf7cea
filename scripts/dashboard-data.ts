/**
 * The figures of the Grafana dashboard (deploy/grafana/crucible-gateway.json) computed from a
 * series of `/metrics` scrapes, panel by panel as its queries define them: rates over a window,
 * histogram quantiles, sums by label. For `npm run dashboard:preview`.
 */

/** One scrape: each sample line's name, labels and value. */
export interface Scrape {
  t: number;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

export function parseScrape(t: number, text: string): Scrape {
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { t, samples };
}

export type Series = Record<string, (number | null)[]>;
const WINDOW = 5; // scrapes a rate is taken over

/** Sum of `name` matching `where`, grouped by the value of `by` (or one group). */
function sum(
  s: Scrape,
  name: string,
  by: (l: Record<string, string>) => string | null,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of s.samples) {
    if (x.name !== name) continue;
    const k = by(x.labels);
    if (k !== null) out.set(k, (out.get(k) ?? 0) + x.value);
  }
  return out;
}

/** `sum by (…) (rate(name[window]))` at each scrape. */
export function rate(
  scrapes: Scrape[],
  name: string,
  by: (l: Record<string, string>) => string | null = () => '',
): Series {
  const out: Series = {};
  scrapes.forEach((s, i) => {
    if (i < WINDOW) return;
    const a = sum(scrapes[i - WINDOW]!, name, by);
    const b = sum(s, name, by);
    for (const [k, v] of b) {
      (out[k] ??= Array<number | null>(scrapes.length).fill(null))[i] =
        Math.max(0, v - (a.get(k) ?? 0)) / ((s.t - scrapes[i - WINDOW]!.t) / 1000);
    }
  });
  return out;
}

/** `max by (…) (name)` at each scrape. */
export function gauge(
  scrapes: Scrape[],
  name: string,
  by: (l: Record<string, string>) => string | null = () => '',
): Series {
  const out: Series = {};
  scrapes.forEach((s, i) => {
    for (const x of s.samples) {
      if (x.name !== name) continue;
      const k = by(x.labels);
      if (k === null) continue;
      const col = (out[k] ??= Array<number | null>(scrapes.length).fill(null));
      col[i] = Math.max(col[i] ?? -Infinity, x.value);
    }
  });
  return out;
}

/** `histogram_quantile(q, sum by (le, …) (rate(name_bucket[window])))` at each scrape. */
export function quantile(
  scrapes: Scrape[],
  q: number,
  name: string,
  by: (l: Record<string, string>) => string | null = () => '',
): Series {
  const rates = rate(scrapes, `${name}_bucket`, (l) => {
    const k = by(l);
    return k === null ? null : `${k}\u0000${l.le}`;
  });
  const groups = new Map<string, [number, (number | null)[]][]>();
  for (const [key, col] of Object.entries(rates)) {
    const [k, le] = key.split('\u0000') as [string, string];
    const list = groups.get(k) ?? [];
    list.push([le === '+Inf' ? Infinity : Number(le), col]);
    groups.set(k, list);
  }
  const out: Series = {};
  for (const [k, buckets] of groups) {
    buckets.sort((a, b) => a[0] - b[0]);
    out[k] = scrapes.map((_, i) => {
      const total = buckets.at(-1)?.[1][i];
      if (!total) return null;
      const rank = q * total;
      let prevLe = 0;
      let prevCount = 0;
      for (const [le, col] of buckets) {
        const c = col[i] ?? 0;
        if (c >= rank) {
          if (le === Infinity) return prevLe;
          return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(c - prevCount, 1e-12);
        }
        prevLe = le;
        prevCount = c;
      }
      return prevLe;
    });
  }
  return out;
}

/** a / b, point by point. */
export function ratio(a: (number | null)[] = [], b: (number | null)[] = []): (number | null)[] {
  return b.map((d, i) =>
    d && a[i] !== null && a[i] !== undefined ? a[i] / d : d === 0 ? 0 : null,
  );
}
