export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  demo: boolean;
  adminEmail?: string;
  adminPassword?: string;
  uploadsDir: string;
  workers: boolean;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = env.DROPDESK_DATA_DIR ?? "./data";
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST || "127.0.0.1",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    demo: env.DROPDESK_DEMO !== "0",
    adminEmail: env.DROPDESK_ADMIN_EMAIL,
    adminPassword: env.DROPDESK_ADMIN_PASSWORD,
    uploadsDir: env.DROPDESK_UPLOADS_DIR ?? `${dataDir}/uploads`,
    workers: env.DROPDESK_WORKER !== "0",
    logLevel: env.LOG_LEVEL ?? "warn",
    ...outboundAndSecretsConfig(env),
    ...edgeConfig(env),
  };
}

// Outbound calls and gateway secrets -------------------------------------------------------------
export interface Config {
  /**
   * Outbound destinations allowed although private, loopback or link-local (comma list of hosts,
   * host:port or CIDRs; `DROPDESK_OUTBOUND_ALLOW`). Empty: only public addresses are called.
   */
  outboundAllow?: string;
  /** The sandbox gateway's callback secret; unset, the installation makes and keeps its own. */
  sandboxGatewaySecret?: string;
}

function outboundAndSecretsConfig(env: NodeJS.ProcessEnv): Pick<Config, "outboundAllow" | "sandboxGatewaySecret"> {
  return {
    outboundAllow: env.DROPDESK_OUTBOUND_ALLOW || undefined,
    sandboxGatewaySecret: env.DROPDESK_SANDBOX_GATEWAY_SECRET || undefined,
  };
}

// The HTTP edge: proxies, metrics ----------------------------------------------------------------
export interface Config {
  /**
   * Which peers may set X-Forwarded-For (`DROPDESK_TRUST_PROXY`): unset trusts none, so a client
   * cannot choose the address its throttles count; a comma list of addresses or CIDRs (or the
   * names loopback, linklocal, uniquelocal); `true` trusts every peer (only behind a proxy that
   * overwrites the header).
   */
  trustProxy: boolean | string;
  /** A bearer token that may read /metrics (`DROPDESK_METRICS_TOKEN`); admins may always. */
  metricsToken?: string;
  /** `DROPDESK_METRICS_PUBLIC=1` serves /metrics to anyone (a scraper on a private network). */
  metricsPublic: boolean;
}

function edgeConfig(env: NodeJS.ProcessEnv): Pick<Config, "trustProxy" | "metricsToken" | "metricsPublic"> {
  const proxy = (env.DROPDESK_TRUST_PROXY ?? "").trim();
  let trustProxy: Config["trustProxy"] = false;
  if (proxy === "true") trustProxy = true;
  else if (proxy && proxy !== "false" && proxy !== "0") trustProxy = proxy;
  return { trustProxy, metricsToken: env.DROPDESK_METRICS_TOKEN || undefined, metricsPublic: env.DROPDESK_METRICS_PUBLIC === "1" };
}
