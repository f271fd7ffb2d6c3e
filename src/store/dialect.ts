import type { DataSource, QueryResult, QueryRunner } from 'typeorm';

/**
 * The store's SQL dialects. Statements are written once, with SQLite's `?` placeholders; where the
 * two engines differ in more than that (JSON functions, `RETURNING id`, scalar MAX), a statement
 * has a variant per dialect, kept next to the other one and picked by `Dialect` (see per-dialect
 * `Record<Dialect, string>` constants in the *-sql.ts files). SQLite's texts are the ones it
 * always ran, byte for byte.
 */
export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(dataSource: DataSource): Dialect {
  return dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/** What the store classes run their statements on: a query runner, or its PostgreSQL translation. */
export type StoreRunner = Pick<QueryRunner, 'query'>;

/** The largest value of PostgreSQL's `integer`, which the id columns are (as in SQLite's schema). */
export const POSTGRES_INT_MAX = 2_147_483_647;

const translated = new Map<string, string>();
/** Statement texts are a finite set (a few hundred at most); the cache is cleared should that ever be wrong. */
const MAX_TRANSLATED = 2000;

/** `?` placeholders as PostgreSQL's `$1, $2, ...`, once per statement text. No statement has a `?` in a literal. */
export function postgresText(sql: string): string {
  let text = translated.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    if (translated.size >= MAX_TRANSLATED) translated.clear();
    translated.set(sql, text);
  }
  return text;
}

/**
 * The parameters as PostgreSQL can take them:
 * - Text cannot hold NUL, and one such string would fail a whole group commit (every sender's
 *   message in it): NUL is stored as U+FFFD, the replacement character. SQLite keeps it.
 * - A number beyond `integer` (a client's `since` or id may be up to 2^53 - 1) would fail the
 *   statement; it is passed as POSTGRES_INT_MAX, which no row has (the sequences stop below it), so
 *   it compares as "beyond every id". Nothing the store writes comes near it.
 */
function postgresValues(parameters: unknown[] | undefined): unknown[] | undefined {
  if (!parameters?.some(needsChange)) return parameters;
  return parameters.map((value) =>
    typeof value === 'string' ? postgresStoredText(value) : typeof value === 'number' && value > POSTGRES_INT_MAX ? POSTGRES_INT_MAX : value,
  );
}

/** A text as PostgreSQL stores it (NUL as U+FFFD): what the write path acknowledges and broadcasts. */
export function postgresStoredText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

function needsChange(value: unknown): boolean {
  return typeof value === 'string' ? value.includes('\0') : typeof value === 'number' && value > POSTGRES_INT_MAX;
}

/** A PostgreSQL query runner that takes the store's `?` statements. */
export class PostgresRunner implements StoreRunner {
  constructor(readonly runner: QueryRunner) {}

  query(sql: string, parameters: unknown[] | undefined, useStructuredResult: true): Promise<QueryResult>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the signature of QueryRunner.query, which StoreRunner is
  query(sql: string, parameters?: unknown[]): Promise<any>;
  query(sql: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<unknown> {
    const values = postgresValues(parameters);
    return useStructuredResult ? this.runner.query(postgresText(sql), values, true) : this.runner.query(postgresText(sql), values);
  }
}

/**
 * The id an INSERT wrote: better-sqlite3's runner gives the rowid as `raw`; on PostgreSQL the
 * statement ends with RETURNING id and `raw` holds its one row.
 */
export function insertedId(result: QueryResult): number {
  const raw: unknown = result.raw;
  const id = Array.isArray(raw) ? (raw[0] as { id?: unknown } | undefined)?.id : raw;
  if (typeof id !== 'number') throw new Error(`an INSERT returned ${typeof id} as its row id`);
  return id;
}
