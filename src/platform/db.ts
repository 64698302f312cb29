import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type RawBuilder,
  sql,
  type Transaction,
} from "kysely";
import pg from "pg";
import type { DB } from "../db/schema.js";
import { ROOT } from "./paths.js";

// Tables are described by the SQL migrations; src/db/schema.ts is generated from them
// (`npm run db:schema`), so Kysely checks every table, column and value type.
export type Database = DB;
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database handle or an open transaction: services accept both. */
export type Executor = Db | Tx;

export type DbKind = "pglite" | "postgres";

/**
 * Something that wraps every `db.transaction().execute(fn)` of the process: it may run `fn` inside
 * the transaction with more work before the commit, or skip it. Idempotent requests use it to record
 * each committed transaction in that transaction (src/platform/idempotency.ts).
 */
export type TransactionInterceptor = <T>(fn: (tx: Tx) => Promise<T>, execute: (fn: (tx: Tx) => Promise<T>) => Promise<T>) => Promise<T>;
let interceptor: TransactionInterceptor | undefined;
export function interceptTransactions(i: TransactionInterceptor | undefined): void {
  interceptor = i;
}

function withInterceptor(db: Db): Db {
  const transaction = db.transaction.bind(db);
  db.transaction = () => {
    const builder = transaction();
    const execute = builder.execute.bind(builder);
    builder.execute = <T>(fn: (tx: Tx) => Promise<T>) => (interceptor ? interceptor(fn, execute) : execute(fn));
    return builder;
  };
  return db;
}

/** A `json`/`jsonb` value selected with `json_agg`/`row_to_json`: parsed when a driver hands back text. */
export const jsonColumn = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
type InJson<V> = V extends Date ? string : V;
/** A row of a table as `json_agg`/`row_to_json` gives it (`JsonRowOf<Selectable<OrderLines>>`): timestamps are ISO strings there. */
export type JsonRowOf<T> = { [K in keyof T]: InJson<T[K]> };
/** A timestamp read from inside a JSON value (an ISO string there), as a Date; null stays null. */
export const jsonDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

export interface DbHandle {
  db: Db;
  kind: DbKind;
  /** Runs raw SQL text that may hold several statements (migrations, pg-boss); rows of the last one. */
  exec(text: string): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
  /** Runs one parameterised statement outside Kysely (pg-boss adapter, benchmarks). */
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
  close(): Promise<void>;
  pglite?: PGlite;
  pool?: pg.Pool;
}

// Bigint columns (money sums, counts) and numeric arrive as strings from pg; Dropdesk amounts fit in JS
// numbers. src/db/schema.ts types them as numbers, so PGlite below parses them the same way.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(1700, (v) => Number(v));

/**
 * PGlite serves one query at a time on one connection, so a transaction must own the connection
 * until it ends. This mutex hands the single connection to one user at a time, in arrival order.
 */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const prev = this.tail;
    this.tail = prev.then(() => next);
    return prev.then(() => release);
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private client: PGlite) {}
  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const res = await this.client.query<R>(q.sql, [...q.parameters]);
    return {
      rows: res.rows,
      numAffectedRows: res.affectedRows !== undefined ? BigInt(res.affectedRows) : undefined,
    };
  }
  // biome-ignore lint/correctness/useYield: PGlite has no cursors; callers page with keyset queries.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming is not supported on PGlite; page with a cursor instead");
  }
}

class PGliteDriver implements Driver {
  private releases = new WeakMap<DatabaseConnection, () => void>();
  constructor(
    private client: PGlite,
    private mutex: Mutex,
  ) {}
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.mutex.lock();
    const conn = new PGliteConnection(this.client);
    this.releases.set(conn, release);
    return conn;
  }
  async beginTransaction(c: DatabaseConnection) {
    await c.executeQuery(CompiledQuery.raw("BEGIN"));
  }
  async commitTransaction(c: DatabaseConnection) {
    await c.executeQuery(CompiledQuery.raw("COMMIT"));
  }
  async rollbackTransaction(c: DatabaseConnection) {
    await c.executeQuery(CompiledQuery.raw("ROLLBACK"));
  }
  async releaseConnection(c: DatabaseConnection) {
    this.releases.get(c)?.();
    this.releases.delete(c);
  }
  async destroy() {}
}

/**
 * Names every parameterised statement by its text, so PostgreSQL parses and plans it once per
 * connection and each later run sends only its parameters (pg skips the Parse message for a name
 * the connection has prepared). Dropdesk's statements are a fixed set of texts with parameters;
 * texts that vary with an input's size (an `IN` list, a multi-row insert) would each be prepared,
 * so past PREPARED_MAX distinct texts new ones run unnamed. Statements without parameters (BEGIN,
 * COMMIT, migrations) keep the simple protocol, and so does a query given as `{ text, values }`:
 * texts made for one use (the import's per-import staging tables) go that way, unprepared.
 */
const PREPARED_MAX = 2000;
const statementNames = new Map<string, string>();
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < PREPARED_MAX && text.length < 20_000) {
    name = `dd${statementNames.size.toString(36)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** The statement texts this process has named so far (tests check what is left unprepared). */
export const preparedStatementTexts = (): string[] => [...statementNames.keys()];

/**
 * Whether a transaction begun now plans its statements once (generic plans): set by the HTTP layer
 * to "inside a request's handler". A request's statements find rows by key, where a plan made for
 * one set of values serves every other, and PostgreSQL otherwise re-plans some of them on every
 * run (a custom plan looks cheaper to it on small tables). Work outside requests — the analytics
 * roll-up, imports, jobs — and every statement outside a transaction keep PostgreSQL's choice.
 */
let genericPlansNow: () => boolean = () => false;
export function planGenericallyWhen(predicate: () => boolean): void {
  genericPlansNow = predicate;
}

/**
 * The comment that marks a statement as one whose answer nobody waits for (an audit entry, a
 * timeline entry, the update of a row the transaction has already locked): inside a transaction on
 * PostgreSQL it goes with the transaction's next statement, or with its COMMIT, instead of in a
 * round trip of its own. Such a statement returns no rows, and
 * may fail only where the transaction would fail anyway: its error fails the statement it went with
 * (or the COMMIT), and the transaction is rolled back. `sendWithNext` puts the mark on a query.
 */
export const WITH_NEXT = "/* with next */";
export const sendWithNext = <Q extends { modifyEnd(e: RawBuilder<unknown>): Q }>(q: Q): Q => q.modifyEnd(sql.raw(WITH_NEXT));

/** pg's own conversion of a parameter to its wire text (Dates, JSON, arrays), done when deferred. */
const prepareValue = createRequire(import.meta.url)("pg/lib/utils.js").prepareValue as (v: unknown) => unknown;

type Opener = { text: string; name?: string; values?: unknown[] };

/**
 * A statement sent with what must run before it in the same write: the BEGIN that opens its
 * transaction (and the transaction's settings), statements marked `WITH_NEXT` — Parse (for a text
 * without parameters), Bind and Execute of each, then the statement itself, then one Sync: one
 * round trip. The openers' answers (their CommandComplete) are skipped, so the result is the
 * statement's own. An error in any of them fails the whole, and the transaction is then aborted as
 * it would have been: the caller rolls it back.
 */
const PgQuery = (pg as unknown as { Query: new (text: string, values?: unknown[], callback?: QueryCallback) => PgQueryLike }).Query;
type QueryCallback = (err: Error | null, res: unknown) => void;
interface PgQueryLike {
  name?: string;
  text: string;
  values?: unknown[];
  queryMode?: string;
  portal: string;
  callback?: QueryCallback;
  prepare(connection: PgConnectionLike): void;
  hasBeenParsed(connection: PgConnectionLike): boolean;
  handleRowDescription(msg: { fields: unknown[] }): void;
  handleCommandComplete(msg: unknown, connection: PgConnectionLike): void;
  handleError(err: Error, connection: PgConnectionLike): void;
  listeners(event: string): unknown[];
  _getRows(connection: PgConnectionLike, rows: undefined): void;
}
interface PgConnectionLike {
  parse(m: { text: string; name?: string }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; valueMapper?: unknown }): void;
  execute(m: { portal: string }): void;
  close(m: { type: "S"; name: string }): void;
  sync(): void;
  submittedNamedStatements: Record<string, string>;
  parsedStatements: Record<string, string>;
}
/** What pg's Result builds from a RowDescription: the fields, their parsers and an empty row. */
interface Shape {
  fields: unknown[];
  _parsers: unknown[];
  _prebuiltEmptyResultObject: object;
}
/** Per connection, the result shape of each named statement it has prepared (null: no columns). */
const shapes = new WeakMap<PgConnectionLike, Map<string, Shape | null>>();

/**
 * A statement of pg's extended protocol that, once its name is prepared on a connection, asks for
 * no description of its result: pg sends a Describe with every Bind and builds the row's fields
 * and parsers from the answer, the same answer each time. The shape is kept from the first answer
 * on that connection. PostgreSQL refuses to run a prepared statement whose result type has
 * changed since it was prepared ("cached plan must not change result type"), so a kept shape
 * cannot go stale. The query is made from its text, which spares pg copying a config object.
 */
class ShapedQuery extends PgQuery {
  private connection: PgConnectionLike | undefined;
  private described = false;
  constructor(name: string | undefined, text: string, values: unknown[] | undefined) {
    super(text, values);
    this.name = name;
    this.queryMode = "extended";
  }
  override prepare(connection: PgConnectionLike) {
    const known = this.name !== undefined && connection.parsedStatements[this.name] === this.text ? shapes.get(connection) : undefined;
    if (!known?.has(this.name as string)) {
      this.connection = connection;
      super.prepare(connection);
      return;
    }
    try {
      connection.bind({ portal: this.portal, statement: this.name as string, values: this.values ?? [], valueMapper: prepareValue });
    } catch (err) {
      // As pg does: a value that cannot be sent fails the query and leaves the connection usable.
      connection.close({ type: "S", name: this.name as string });
      connection.sync();
      this.handleError(err as Error, connection);
      return;
    }
    const shape = known.get(this.name as string);
    const self = this as unknown as { _result: Shape; _accumulateRows: boolean };
    if (shape) Object.assign(self._result, shape);
    self._accumulateRows = this.callback !== undefined || this.listeners("row").length === 0;
    this._getRows(connection, undefined);
  }
  override handleRowDescription(msg: { fields: unknown[] }) {
    super.handleRowDescription(msg);
    this.described = true;
    if (this.name && this.connection) {
      const { fields, _parsers, _prebuiltEmptyResultObject } = (this as unknown as { _result: Shape })._result;
      this.shapesHere().set(this.name, { fields, _parsers, _prebuiltEmptyResultObject });
    }
  }
  override handleCommandComplete(msg: unknown, connection: PgConnectionLike) {
    // No description came: the statement has no result columns (PostgreSQL answered NoData).
    if (this.name && this.connection && !this.described) this.shapesHere().set(this.name, null);
    super.handleCommandComplete(msg, connection);
  }
  private shapesHere(): Map<string, Shape | null> {
    const connection = this.connection as PgConnectionLike;
    let map = shapes.get(connection);
    if (!map) {
      map = new Map();
      shapes.set(connection, map);
    }
    return map;
  }
}

class OpenedQuery extends ShapedQuery {
  private skip: number;
  constructor(
    main: { name?: string; text: string; values?: unknown[] },
    private openers: Opener[],
  ) {
    super(main.name, main.text, main.values);
    this.skip = openers.length;
  }
  override prepare(connection: PgConnectionLike) {
    // A named statement new to this connection is parsed before the openers: pg takes the first
    // ParseComplete of the round trip as the statement's own, and it must not be an opener's.
    if (this.name && !this.hasBeenParsed(connection)) {
      connection.parse({ text: this.text, name: this.name });
      connection.submittedNamedStatements[this.name] = this.text;
    }
    for (const o of this.openers) {
      // A deferred statement is already prepared on this connection (see PreparingClient).
      if (!o.name) connection.parse({ text: o.text });
      connection.bind({ portal: "", statement: o.name ?? "", values: o.values ?? [] });
      connection.execute({ portal: "" });
    }
    super.prepare(connection);
  }
  override handleCommandComplete(msg: unknown, connection: PgConnectionLike) {
    if (this.skip > 0) this.skip -= 1;
    else super.handleCommandComplete(msg, connection);
  }
}

const GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan";
const SAVEPOINT = /^savepoint \w+$/i;
const done = (command: string, rowCount: number | null = null) => Promise.resolve({ command, rowCount, oid: 0, rows: [], fields: [] });

class PreparingClient extends pg.Client {
  /** Inside a transaction begun through `query("begin")`. */
  private inTx = false;
  /** What waits to go with the transaction's next statement: its BEGIN, statements marked WITH_NEXT. */
  private waiting: Opener[] = [];
  /** An error of waiting statements that had no caller to fail: the transaction cannot commit. */
  private failed: Error | undefined;

  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has many overloads; this passes them on.
  override query(config: any, values?: any, callback?: any): any {
    const hasValues = Array.isArray(values) && values.length > 0;
    const bare = values === undefined || (Array.isArray(values) && values.length === 0);
    const promised = callback === undefined && typeof values !== "function";
    if (config === "begin" && bare && promised) {
      // The setting, for this transaction only, is decided when it begins (inside a request or not).
      this.inTx = true;
      this.failed = undefined;
      this.waiting = genericPlansNow() ? [{ text: "begin" }, { text: GENERIC_PLANS }] : [{ text: "begin" }];
      return done("BEGIN");
    }
    if (this.inTx && bare && promised && typeof config === "string" && SAVEPOINT.test(config)) {
      // A savepoint answers nothing anyone waits for: it goes first in the next statement's write.
      this.waiting.push({ text: config });
      return done("SAVEPOINT");
    }
    const name = typeof config === "string" && hasValues ? statementName(config) : undefined;
    const connection = (this as unknown as { connection: PgConnectionLike }).connection;
    if (this.inTx && name && promised && config.endsWith(WITH_NEXT) && connection.parsedStatements[name] === config) {
      this.waiting.push({ text: config, name, values: (values as unknown[]).map((v) => prepareValue(v)) });
      return done("INSERT", 1);
    }
    const waiting = this.waiting;
    this.waiting = [];
    if ((config === "commit" || config === "rollback") && bare && promised) {
      this.inTx = false;
      const failed = this.failed;
      this.failed = undefined;
      const begun = waiting[0]?.text !== "begin";
      // A transaction whose BEGIN never went has nothing on the server to end; statements still
      // waiting are dropped with a rollback.
      if (config === "rollback") return begun ? super.query("rollback") : done("ROLLBACK");
      if (failed) return super.query("rollback").then(() => Promise.reject(failed));
      if (!begun && waiting.every((w) => !w.name)) return done("COMMIT");
      return waiting.length ? this.sendWith({ text: "commit" }, waiting) : super.query("commit");
    }
    if (typeof config === "string" && hasValues && promised && waiting.length)
      return this.sendWith({ name, text: config, values }, waiting);
    if (waiting.length) {
      // Anything else (a statement without parameters, a COPY stream): what waits goes first, and
      // pg sends the two in order; a failure then fails the transaction's COMMIT.
      const last = waiting.pop() as Opener;
      this.sendWith(last.name ? { name: last.name, text: last.text, values: last.values } : { text: last.text }, waiting).catch(
        (e: Error) => {
          this.failed ??= e;
        },
      );
    }
    if (name && promised) return this.submit(new ShapedQuery(name, config, values));
    if (name) return super.query({ name, text: config, values }, callback);
    return super.query(config, values, callback);
  }

  private sendWith(main: { name?: string; text: string; values?: unknown[] }, openers: Opener[]): Promise<unknown> {
    return this.submit(new OpenedQuery(main, openers));
  }

  /** Queues a query made here and answers its result as a promise, as pg does for a config. */
  private submit(query: ShapedQuery): Promise<unknown> {
    return new Promise((resolve, reject) => {
      query.callback = (err, res) => (err ? reject(err) : resolve(res));
      // biome-ignore lint/suspicious/noExplicitAny: a pg Submittable; pg's types name only configs.
      super.query(query as any);
    });
  }
}

export interface OpenDbOptions {
  databaseUrl?: string;
  /** PGlite data directory; `memory://` (or undefined) keeps it in memory. */
  dataDir?: string;
  poolSize?: number;
}

/**
 * The embedded database's memory, sized for one shop's team rather than PostgreSQL's server
 * defaults: PGlite's WebAssembly memory only grows, so every buffer it ever touches stays resident
 * in the server's process. 16 MB of shared buffers (PostgreSQL's default is 128 MB) keeps the hot
 * pages; the operating system's file cache holds the rest of the data directory.
 */
const PGLITE_SETTINGS = [
  "-c",
  "shared_buffers=16MB",
  "-c",
  "work_mem=4MB",
  "-c",
  "maintenance_work_mem=16MB",
  "-c",
  "temp_buffers=2MB",
  "-c",
  "wal_buffers=1MB",
];

/**
 * Creates a new PGlite data directory in a short-lived child process. Creating one (initdb) runs a
 * second WebAssembly module whose memory, and the copy of the new directory it hands over, would
 * otherwise stay in the server's process for good (about 800 MB resident after the first start
 * against 180 MB after later ones).
 */
async function initPgliteDir(dir: string): Promise<void> {
  const script = 'const { PGlite } = await import("@electric-sql/pglite"); await (await PGlite.create(process.argv[1])).close();';
  await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, resolve(dir)], { cwd: ROOT });
}

export async function openDb(opts: OpenDbOptions): Promise<DbHandle> {
  if (opts.databaseUrl) {
    // JIT compilation costs hundreds of milliseconds on the large estimated joins of the analytics
    // reports and never pays back on requests this short, so sessions run without it.
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      options: "-c jit=off",
      Client: process.env.DROPDESK_PREPARE === "0" ? pg.Client : PreparingClient,
    });
    // An idle connection dropped by the server (restart, failover) must not crash the process;
    // the pool replaces it on the next query.
    pool.on("error", (err) => console.warn(`database connection lost: ${err.message}`));
    const db = withInterceptor(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
    return {
      db,
      kind: "postgres",
      pool,
      async exec(text) {
        const r = (await pool.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        const last = Array.isArray(r) ? r[r.length - 1] : r;
        return { rows: last?.rows ?? [], rowCount: last?.rowCount ?? 0 };
      },
      async query(text, values) {
        const r = await pool.query(text, values as unknown[]);
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      },
      async close() {
        await db.destroy();
      },
    };
  }
  const onDisk = opts.dataDir && opts.dataDir !== "memory://" ? opts.dataDir : undefined;
  if (onDisk) {
    await mkdir(onDisk, { recursive: true });
    if (!existsSync(join(onDisk, "PG_VERSION"))) await initPgliteDir(onDisk);
  }
  // numeric arrives as a number, as from pg above (PGlite's default gives its text).
  const client = await PGlite.create(onDisk, {
    parsers: { 1700: (v: string) => Number(v) },
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
  });
  const mutex = new Mutex();
  const db = withInterceptor(
    new Kysely<Database>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => new PGliteDriver(client, mutex),
        createIntrospector: (k) => new PostgresIntrospector(k),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    }),
  );
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await mutex.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  return {
    db,
    kind: "pglite",
    pglite: client,
    exec: (text) =>
      locked(async () => {
        const r = await client.exec(text);
        const last = r[r.length - 1];
        return { rows: (last?.rows ?? []) as Record<string, unknown>[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
      }),
    query: (text, values) =>
      locked(async () => {
        const r = await client.query<Record<string, unknown>>(text, values ?? []);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
      }),
    async close() {
      await locked(() => client.close());
    },
  };
}
