import type { FastifyInstance, InjectOptions } from "fastify";
import pg from "pg";
import { createApp } from "../../src/app.js";
import { hashPassword } from "../../src/platform/auth.js";
import { ManualClock } from "../../src/platform/clock.js";
import type { Config } from "../../src/platform/config.js";
import type { Actor, Deps, Role } from "../../src/platform/context.js";
import { type DbHandle, type DbKind, openDb } from "../../src/platform/db.js";
import { newId, randomToken, sha256 } from "../../src/platform/ids.js";

export const PG_ADMIN_URL = process.env.DD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let pgAvailable: Promise<boolean> | undefined;
async function postgresReachable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      return false;
    }
  })();
  return pgAvailable;
}

/**
 * Which databases the integration suites run against. Both by default; with CI=true a missing
 * PostgreSQL is a failure, never a silent skip.
 */
export const DB_KINDS: DbKind[] = (process.env.DD_TEST_DB ?? "pglite,postgres").split(",") as DbKind[];

/** A fresh, empty database of the given kind: in-memory PGlite, or a new PostgreSQL database. */
export async function freshDb(kind: DbKind): Promise<DbHandle & { drop(): Promise<void> }> {
  if (kind === "pglite") {
    const h = await openDb({ dataDir: "memory://" });
    return Object.assign(h, { drop: () => h.close() });
  }
  if (!(await postgresReachable())) {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL}; start it (see README) or set DD_TEST_DB=pglite`);
  }
  return freshPgDb();
}

/**
 * A fresh PostgreSQL database, opened as the admin role or, with `owner`, as that role (which then
 * owns it); dropped by `drop()`.
 */
async function freshPgDb(owner?: string): Promise<DbHandle & { url: string; drop(): Promise<void> }> {
  const name = `dd_test_${randomToken(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(owner ? `CREATE DATABASE ${name} OWNER ${owner}` : `CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  if (owner) url.username = owner;
  const h = await openDb({ databaseUrl: url.toString(), poolSize: 8 });
  return Object.assign(h, {
    url: url.toString(),
    async drop() {
      await h.close();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  });
}

/**
 * A fresh PostgreSQL database owned by, and opened as, a role that is not a superuser (`dd_plain`,
 * made once): what a managed PostgreSQL gives an application, for the paths that change with the
 * role's rights.
 */
export async function freshDbAsPlainRole(): Promise<DbHandle & { drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dd_plain') THEN CREATE ROLE dd_plain LOGIN NOSUPERUSER; END IF; END $$",
  );
  await admin.end();
  return freshPgDb("dd_plain");
}

let cachedHash: Promise<string> | undefined;
export const TEST_PASSWORD = "correct horse battery";
const passwordHash = () => {
  cachedHash ??= hashPassword(TEST_PASSWORD);
  return cachedHash;
};

export interface TestTenant {
  tenantId: string;
  /** Bearer tokens per staff role. */
  tokens: Record<Role, string>;
  actors: Record<string, Actor>;
  userIds: Record<string, string>;
}

/** Creates a tenant with a user and an API token for every staff role. */
export async function makeTenant(deps: Deps, name = "Tenant"): Promise<TestTenant> {
  const tenantId = newId();
  await deps.db.insertInto("tenants").values({ id: tenantId, name, portal_secret: randomToken() }).execute();
  const tokens = {} as Record<Role, string>;
  const actors: Record<string, Actor> = {};
  const userIds: Record<string, string> = {};
  const hash = await passwordHash();
  for (const role of ["admin", "cs", "warehouse", "finance", "viewer"] as const) {
    const userId = newId();
    userIds[role] = userId;
    await deps.db
      .insertInto("users")
      .values({
        id: userId,
        tenant_id: tenantId,
        email: `${role}.${tenantId.slice(-8)}@example.test`,
        name: `${role} user`,
        role,
        password_hash: hash,
      })
      .execute();
    const token = `ddt_${randomToken(24)}`;
    await deps.db
      .insertInto("api_tokens")
      .values({
        id: newId(),
        tenant_id: tenantId,
        name: `${role} token`,
        role,
        token_hash: sha256(token),
        prefix: token.slice(0, 10),
        created_by: userId,
      })
      .execute();
    tokens[role] = token;
    actors[role] = { kind: "user", id: userId, tenantId, role, name: `${role} user`, locale: "zh-CN" };
  }
  return { tenantId, tokens, actors, userIds };
}

/** Adds a user of the supplier role bound to `supplierId` (password TEST_PASSWORD) and returns its email. */
export async function addSupplierUser(deps: Deps, tenantId: string, supplierId: string, name = "supplier user") {
  const email = `supplier.${randomToken(6)}@example.test`;
  await deps.db
    .insertInto("users")
    .values({
      id: newId(),
      tenant_id: tenantId,
      email,
      name,
      role: "supplier",
      supplier_id: supplierId,
      password_hash: await passwordHash(),
    })
    .execute();
  return email;
}

/** The sign-in emails of the test tenant's users of these roles. */
export async function userEmails(t: { deps: Deps; t: { userIds: Record<string, string> } }, roles: readonly string[]) {
  const emails: Record<string, string> = {};
  for (const role of roles) {
    emails[role] = (
      await t.deps.db.selectFrom("users").select("email").where("id", "=", t.t.userIds[role]).executeTakeFirstOrThrow()
    ).email;
  }
  return emails;
}

/** Adds a supplier user bound to `supplierId` and returns a bearer-equivalent session cookie. */
export async function supplierSession(app: FastifyInstance, deps: Deps, tenantId: string, supplierId: string) {
  const email = await addSupplierUser(deps, tenantId, supplierId);
  const res = await app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password: TEST_PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`supplier login failed: ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === "dd_session");
  return { cookie: `dd_session=${cookie?.value}` };
}

export interface TestApp {
  kind: DbKind;
  app: FastifyInstance;
  deps: Deps;
  clock: ManualClock;
  t: TestTenant;
  /** A second tenant, for isolation checks. */
  other: TestTenant;
  /** Calls the API as a role of the main tenant (or of `other` with `as: "other:<role>"`). */
  api(
    method: string,
    url: string,
    opts?: { as?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  close(): Promise<void>;
}

/** Starts the whole application on a fresh database of `kind`, with a manual clock and two tenants. */
export async function startTestApp(
  kind: DbKind,
  opts: {
    demo?: boolean;
    clock?: ManualClock;
    workers?: boolean;
    handle?: Awaited<ReturnType<typeof freshDb>>;
    keepDb?: boolean;
    /** Settings on top of the test defaults (e.g. `outboundAllow` for a suite's local receivers). */
    config?: Partial<Config>;
  } = {},
): Promise<TestApp> {
  const handle = opts.handle ?? (await freshDb(kind));
  const clock = opts.clock ?? new ManualClock(new Date("2026-03-01T04:00:00Z"));
  const { app, deps } = await createApp({
    handle,
    clock,
    config: {
      demo: opts.demo ?? false,
      workers: opts.workers ?? false,
      dataDir: "memory://",
      uploadsDir: `/tmp/dropdesk-test-uploads/${randomToken(6)}`,
      adminEmail: `admin.${randomToken(4)}@dropdesk.test`,
      adminPassword: TEST_PASSWORD,
      ...opts.config,
    },
    log: () => {},
  });
  await app.ready();
  const t = await makeTenant(deps, "Main");
  const other = await makeTenant(deps, "Other");
  const api: TestApp["api"] = async (method, url, o = {}) => {
    const [tenant, role] = (o.as ?? "admin").includes(":") ? (o.as as string).split(":") : ["main", o.as ?? "admin"];
    const tok = (tenant === "other" ? other : t).tokens[role as Role];
    const headers: Record<string, string> = {
      ...(tok && !o.headers?.cookie && !o.headers?.authorization ? { authorization: `Bearer ${tok}` } : {}),
      ...o.headers,
    };
    const req: InjectOptions = { method: method as InjectOptions["method"], url, headers };
    if (o.body !== undefined) req.payload = o.body as InjectOptions["payload"];
    const res = await app.inject(req);
    let body: unknown;
    try {
      body = res.json();
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, body, headers: res.headers, text: res.body };
  };
  return {
    kind,
    app,
    deps,
    clock,
    t,
    other,
    api,
    async close() {
      await app.close();
      if (!opts.keepDb) await handle.drop();
    },
  };
}
