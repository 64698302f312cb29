import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { refreshAnalytics } from "./analytics/analytics.routes.js";
import { createApp, openDeps } from "./app.js";
import { seedDemo } from "./demo/seed.js";
import { passwordProblem } from "./identity/passwords.js";
import { demoSeeders } from "./modules.js";
import { hashPassword } from "./platform/auth.js";
import { ensureTenant } from "./platform/bootstrap.js";
import { STAFF_ROLES } from "./platform/context.js";
import { newId } from "./platform/ids.js";

const USAGE = `dropdesk <command>
  start                 run the API and web app (PORT, DATABASE_URL or DROPDESK_DATA_DIR)
  worker                run only the job queue and SLA timers (start the API with DROPDESK_WORKER=0)
  migrate               apply database migrations and exit
  seed                  fill an empty tenant with demo data
  create-user --email E --password P [--role admin|cs|warehouse|finance|viewer] [--name N]
  analytics-refresh [--full]   rebuild the analytics rollups and supplier scores of every tenant now`;

/** Stops what the capabilities started (the job queue) and closes the database, so the command exits. */
async function closeDeps(deps: Awaited<ReturnType<typeof openDeps>>) {
  await (deps.services.stop as (() => Promise<void>) | undefined)?.();
  await deps.h.close();
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case "start":
    case undefined: {
      // On PostgreSQL several processes share the work (Node's cluster); PGlite lives in one process.
      const processes = Number(process.env.DROPDESK_PROCESSES ?? 1);
      if (cluster.isPrimary && processes > 1 && process.env.DATABASE_URL) {
        const first = await openDeps();
        const { tenantId, created } = await ensureTenant(first);
        if (created && first.config.demo) await seedDemo(first, tenantId, demoSeeders);
        await first.h.close();
        for (let i = 0; i < processes; i++) cluster.fork();
        cluster.on("exit", (w, code) => {
          if (code !== 0) console.error(`worker ${w.process.pid} exited with ${code}`);
        });
        return;
      }
      const { app, deps } = await createApp({ logger: true, log: cluster.isWorker ? () => {} : console.log });
      await app.listen({ port: deps.config.port, host: deps.config.host });
      const stop = async () => {
        await app.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      if (cluster.isWorker && cluster.worker?.id !== 1) return;
      const url = `http://localhost:${deps.config.port}`;
      console.log(
        `Dropdesk is running at ${url}  (database: ${deps.h.kind === "pglite" ? `embedded PGlite in ${deps.config.dataDir}` : "PostgreSQL"})`,
      );
      console.log(`Sign in at ${url}/ ; API docs at ${url}/api/docs`);
      return;
    }
    case "worker": {
      // Jobs are rows taken with SKIP LOCKED, so any number of workers can run next to the API.
      // The embedded PGlite belongs to one process: there the server runs the jobs itself.
      if (!process.env.DATABASE_URL) throw new Error("dropdesk worker needs DATABASE_URL (PostgreSQL)");
      const deps = await openDeps({ config: { workers: true } });
      console.log(`Dropdesk worker running (database: ${deps.h.kind})`);
      const stop = async () => {
        await (deps.services.stop as (() => Promise<void>) | undefined)?.();
        await deps.h.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      return;
    }
    case "analytics-refresh": {
      // Rebuilds the analytics rollups of every tenant now (--full: every day, not only changes).
      const { values } = parseArgs({ args: rest, options: { full: { type: "boolean", default: false } } });
      const deps = await openDeps({ config: { workers: false } });
      const tenants = await deps.db.selectFrom("tenants").select("id").execute();
      for (const t of tenants) {
        const r = await refreshAnalytics(deps, t.id, values.full);
        console.log(`${t.id}: ${r.zones.map((z) => `${z.tz} through ${z.through}`).join(", ")}; ${r.scored} supplier scores; ${r.ms} ms`);
      }
      await closeDeps(deps);
      return;
    }
    case "migrate": {
      const deps = await openDeps({ config: { workers: false } });
      console.log("migrations applied");
      await closeDeps(deps);
      return;
    }
    case "seed": {
      const deps = await openDeps({ config: { workers: false } });
      const { tenantId } = await ensureTenant(deps);
      const seeded = await seedDemo(deps, tenantId, demoSeeders);
      console.log(seeded ? "demo data created" : "the tenant already has data; nothing seeded");
      await closeDeps(deps);
      return;
    }
    case "create-user": {
      const { values } = parseArgs({
        args: rest,
        options: {
          email: { type: "string" },
          password: { type: "string" },
          role: { type: "string", default: "admin" },
          name: { type: "string", default: "" },
        },
      });
      if (!values.email || !values.password) throw new Error("--email and --password are required");
      const weak = passwordProblem(values.password, { email: values.email });
      if (weak) throw new Error(`--password: ${weak}`);
      const role = STAFF_ROLES.find((r) => r === values.role);
      if (!role) throw new Error(`--role must be one of ${STAFF_ROLES.join(", ")}`);
      const deps = await openDeps({ config: { workers: false } });
      const { tenantId } = await ensureTenant(deps);
      await deps.db
        .insertInto("users")
        .values({
          id: newId(),
          tenant_id: tenantId,
          email: values.email,
          name: values.name,
          role,
          password_hash: await hashPassword(values.password),
        })
        .execute();
      console.log(`user ${values.email} created with role ${values.role}`);
      await closeDeps(deps);
      return;
    }
    default:
      console.log(USAGE);
      process.exitCode = cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

main().catch((e) => {
  console.error(process.env.DROPDESK_DEBUG && e instanceof Error ? e.stack : e instanceof Error ? e.message : e);
  process.exit(1);
});
