import { openPostgres } from '../lib/postgres.js';
import type { Migration } from '../lib/postgres.js';
import type { components } from '../generated/types/storage.js';

export type Evaluation = components['schemas']['Evaluation'];
export type AuditEvent = components['schemas']['AuditEvent'];
export type RunningInfo = components['schemas']['RunningInfo'];
export type Statistics = components['schemas']['Statistics'];
export type EvaluationState = components['schemas']['EvaluationState'];

/** An evaluation as the storage service keeps it: the record plus where it runs. */
export interface Doc extends Evaluation {
  running?: RunningInfo | null;
}

export interface ListQuery {
  limit: number;
  offset: number;
  status?: EvaluationState;
  language?: string;
  /** Only evaluations whose `metadata.owner` is this. */
  owner?: string;
  sort_by: 'created_at' | 'completed_at' | 'status';
  sort_order: 'asc' | 'desc';
}

/** Where the storage service keeps evaluations: in memory, or in PostgreSQL. */
export interface StorageData {
  /** Stores a new evaluation; false when one with the id exists. */
  insert(doc: Doc): Promise<boolean>;
  get(id: string): Promise<Doc | null>;
  /**
   * Reads, changes and writes one evaluation atomically; `change` returns the new doc or throws.
   * Null when there is no such evaluation.
   */
  modify(id: string, change: (doc: Doc) => Doc): Promise<Doc | null>;
  remove(id: string): Promise<boolean>;
  list(q: ListQuery): Promise<{ evaluations: Doc[]; total: number }>;
  running(): Promise<Doc[]>;
  addEvent(id: string, e: AuditEvent): Promise<void>;
  events(id: string): Promise<AuditEvent[]>;
  statistics(now: Date): Promise<Statistics>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

function statisticsOf(docs: Doc[], now: Date): Statistics {
  const by_status: Record<string, number> = {};
  const by_language: Record<string, number> = {};
  let runtimeSum = 0;
  let runtimeCount = 0;
  let last24 = 0;
  for (const d of docs) {
    by_status[d.status] = (by_status[d.status] ?? 0) + 1;
    if (d.language) by_language[d.language] = (by_language[d.language] ?? 0) + 1;
    if (typeof d.runtime_ms === 'number') {
      runtimeSum += d.runtime_ms;
      runtimeCount++;
    }
    if (d.created_at && now.getTime() - Date.parse(d.created_at) < DAY_MS) last24++;
  }
  const done = (by_status.completed ?? 0) + (by_status.failed ?? 0);
  return {
    total_evaluations: docs.length,
    by_status,
    by_language,
    average_runtime_ms: runtimeCount ? Math.round(runtimeSum / runtimeCount) : null,
    success_rate: done ? (by_status.completed ?? 0) / done : null,
    last_24h_count: last24,
    storage_info: { backend: 'memory' },
  };
}

function compare(q: ListQuery): (a: Doc, b: Doc) => number {
  const dir = q.sort_order === 'asc' ? 1 : -1;
  return (a, b) => {
    const x = a[q.sort_by] ?? '';
    const y = b[q.sort_by] ?? '';
    return x < y ? -dir : x > y ? dir : a.id < b.id ? -dir : a.id > b.id ? dir : 0;
  };
}

export function createMemoryData(): StorageData {
  const docs = new Map<string, Doc>();
  const events = new Map<string, AuditEvent[]>();
  const copy = (d: Doc): Doc => structuredClone(d);
  return {
    insert(doc) {
      if (docs.has(doc.id)) return Promise.resolve(false);
      docs.set(doc.id, copy(doc));
      return Promise.resolve(true);
    },
    get(id) {
      const d = docs.get(id);
      return Promise.resolve(d ? copy(d) : null);
    },
    modify(id, change) {
      const d = docs.get(id);
      if (!d) return Promise.resolve(null);
      const next = change(copy(d));
      docs.set(id, copy(next));
      return Promise.resolve(copy(next));
    },
    remove(id) {
      events.delete(id);
      return Promise.resolve(docs.delete(id));
    },
    list(q) {
      const all = [...docs.values()].filter(
        (d) =>
          (!q.status || d.status === q.status) &&
          (!q.language || d.language === q.language) &&
          (!q.owner || d.metadata?.owner === q.owner),
      );
      all.sort(compare(q));
      return Promise.resolve({
        evaluations: all.slice(q.offset, q.offset + q.limit).map(copy),
        total: all.length,
      });
    },
    running() {
      return Promise.resolve([...docs.values()].filter((d) => d.running).map(copy));
    },
    addEvent(id, e) {
      let list = events.get(id);
      if (!list) events.set(id, (list = []));
      list.push(structuredClone(e));
      return Promise.resolve();
    },
    events(id) {
      return Promise.resolve(structuredClone(events.get(id) ?? []));
    },
    statistics(now) {
      return Promise.resolve(statisticsOf([...docs.values()], now));
    },
    close: () => Promise.resolve(),
  };
}

const MIGRATIONS: Migration[] = [
  (s) => `
    CREATE TABLE ${s}.evaluations (
      id           text PRIMARY KEY,
      status       text NOT NULL,
      language     text,
      created_at   timestamptz NOT NULL,
      completed_at timestamptz,
      runtime_ms   integer,
      running      boolean NOT NULL DEFAULT false,
      doc          jsonb NOT NULL
    );
    CREATE INDEX evaluations_created_at ON ${s}.evaluations (created_at DESC);
    CREATE INDEX evaluations_status ON ${s}.evaluations (status);
    CREATE TABLE ${s}.evaluation_events (
      seq           bigserial PRIMARY KEY,
      evaluation_id text NOT NULL REFERENCES ${s}.evaluations (id) ON DELETE CASCADE,
      event         jsonb NOT NULL
    );
    CREATE INDEX evaluation_events_evaluation ON ${s}.evaluation_events (evaluation_id, seq);`,
];

// Differs from the gateway's own migration lock, so the two never wait for each other.
const MIGRATION_LOCK = 0x73746f72;

/**
 * PostgreSQL: one row per evaluation holding the whole record as JSON, with the columns that
 * lists filter and sort on beside it. `schema` is a validated identifier.
 */
export async function createPostgresData(url: string, schema: string): Promise<StorageData> {
  const sql = await openPostgres(url, schema, MIGRATION_LOCK, MIGRATIONS);
  const table = sql(`${schema}.evaluations`);
  const eventsTable = sql(`${schema}.evaluation_events`);
  const row = (d: Doc) => ({
    id: d.id,
    status: d.status,
    language: d.language ?? null,
    created_at: d.created_at ?? new Date().toISOString(),
    completed_at: d.completed_at ?? null,
    runtime_ms: d.runtime_ms ?? null,
    running: Boolean(d.running),
    doc: sql.json(d as never),
  });
  const SORT = {
    created_at: 'created_at',
    completed_at: 'completed_at',
    status: 'status',
  } as const;

  return {
    async insert(doc) {
      const r =
        await sql`INSERT INTO ${table} ${sql(row(doc))} ON CONFLICT (id) DO NOTHING RETURNING id`;
      return r.length === 1;
    },
    async get(id) {
      const [r] = await sql<{ doc: Doc }[]>`SELECT doc FROM ${table} WHERE id = ${id}`;
      return r?.doc ?? null;
    },
    async modify(id, change) {
      return sql.begin(async (tx) => {
        const [r] = await tx<{ doc: Doc }[]>`SELECT doc FROM ${table} WHERE id = ${id} FOR UPDATE`;
        if (!r) return null;
        const next = change(r.doc);
        const { status, language, created_at, completed_at, runtime_ms, running, doc } = row(next);
        const cols = { status, language, created_at, completed_at, runtime_ms, running, doc };
        await tx`UPDATE ${table} SET ${tx(cols)} WHERE id = ${id}`;
        return next;
      });
    },
    async remove(id) {
      const r = await sql`DELETE FROM ${table} WHERE id = ${id}`;
      return r.count === 1;
    },
    async list(q) {
      const where = sql`WHERE (${q.status ?? null}::text IS NULL OR status = ${q.status ?? null})
        AND (${q.language ?? null}::text IS NULL OR language = ${q.language ?? null})
        AND (${q.owner ?? null}::text IS NULL OR doc->'metadata'->>'owner' = ${q.owner ?? null})`;
      const order = sql.unsafe(
        `${SORT[q.sort_by]} ${q.sort_order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, id`,
      );
      const rows = await sql<
        { doc: Doc }[]
      >`SELECT doc FROM ${table} ${where} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`;
      const [count] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM ${table} ${where}`;
      return { evaluations: rows.map((r) => r.doc), total: Number(count?.n ?? 0) };
    },
    async running() {
      return (
        await sql<{ doc: Doc }[]>`SELECT doc FROM ${table} WHERE running ORDER BY created_at`
      ).map((r) => r.doc);
    },
    async addEvent(id, e) {
      await sql`INSERT INTO ${eventsTable} (evaluation_id, event) VALUES (${id}, ${sql.json(e as never)})`;
    },
    async events(id) {
      return (
        await sql<
          { event: AuditEvent }[]
        >`SELECT event FROM ${eventsTable} WHERE evaluation_id = ${id} ORDER BY seq`
      ).map((r) => r.event);
    },
    async statistics(now) {
      const [t] = await sql<{ total: string; avg: number | null; last24: string }[]>`
        SELECT count(*) AS total, avg(runtime_ms)::float AS avg,
               count(*) FILTER (WHERE created_at > ${now} - interval '24 hours') AS last24
        FROM ${table}`;
      const byStatus = await sql<
        { k: string; n: string }[]
      >`SELECT status AS k, count(*) AS n FROM ${table} GROUP BY status`;
      const byLanguage = await sql<
        { k: string; n: string }[]
      >`SELECT language AS k, count(*) AS n FROM ${table} WHERE language IS NOT NULL GROUP BY language`;
      const obj = (rows: { k: string; n: string }[]) =>
        Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
      const by_status = obj(byStatus);
      const done = (by_status.completed ?? 0) + (by_status.failed ?? 0);
      return {
        total_evaluations: Number(t?.total ?? 0),
        by_status,
        by_language: obj(byLanguage),
        average_runtime_ms: t?.avg === null || t?.avg === undefined ? null : Math.round(t.avg),
        success_rate: done ? (by_status.completed ?? 0) / done : null,
        last_24h_count: Number(t?.last24 ?? 0),
        storage_info: { backend: 'postgresql', schema },
      };
    },
    close: () => sql.end({ timeout: 2 }),
  };
}
