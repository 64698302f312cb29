import { seedDemo } from "./demo/seed.js";
import { demoSeeders, routeModules, setupHooks } from "./modules.js";
import { ensureTenant } from "./platform/bootstrap.js";
import { type Clock, systemClock } from "./platform/clock.js";
import { type Config, loadConfig } from "./platform/config.js";
import type { Deps } from "./platform/context.js";
import { type DbHandle, openDb } from "./platform/db.js";
import { buildServer } from "./platform/http.js";
import { migrate } from "./platform/migrate.js";
import { localStorage } from "./platform/storage.js";

export interface StartOptions {
  config?: Partial<Config>;
  clock?: Clock;
  /** Reuse an open database (tests share one per file). */
  handle?: DbHandle;
  logger?: boolean;
  log?: (line: string) => void;
}

export async function openDeps(opts: StartOptions = {}): Promise<Deps> {
  const config = { ...loadConfig(), ...opts.config };
  const h =
    opts.handle ??
    (await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir === "memory://" ? "memory://" : `${config.dataDir}/pg` }));
  await migrate(h);
  const deps: Deps = {
    h,
    db: h.db,
    clock: opts.clock ?? systemClock,
    config,
    storage: localStorage(config.uploadsDir),
    eventSinks: [],
    services: {},
  };
  for (const hook of setupHooks) await hook(deps);
  return deps;
}

/** Builds the whole application: database, migrations, first tenant, demo data, HTTP server. */
export async function createApp(opts: StartOptions = {}) {
  const deps = await openDeps(opts);
  const log = opts.log ?? console.log;
  const { tenantId, created } = await ensureTenant(deps, log);
  if (created && deps.config.demo) await seedDemo(deps, tenantId, demoSeeders, log);
  const app = await buildServer(deps, routeModules, { logger: opts.logger });
  app.addHook("onClose", async () => {
    const stop = deps.services.stop as (() => Promise<void>) | undefined;
    if (stop) await stop();
    if (!opts.handle) await deps.h.close();
  });
  return { app, deps, tenantId };
}
