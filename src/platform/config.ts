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
    host: env.HOST ?? "0.0.0.0",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    demo: env.DROPDESK_DEMO !== "0",
    adminEmail: env.DROPDESK_ADMIN_EMAIL,
    adminPassword: env.DROPDESK_ADMIN_PASSWORD,
    uploadsDir: env.DROPDESK_UPLOADS_DIR ?? `${dataDir}/uploads`,
    workers: env.DROPDESK_WORKER !== "0",
    logLevel: env.LOG_LEVEL ?? "warn",
    ...outboundAndSecretsConfig(env),
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
