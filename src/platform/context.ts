import { type Role, STAFF_ROLES, type StaffRole } from "../domain/vocabulary.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { DbHandle, Executor, Tx } from "./db.js";

// The roles are the domain vocabulary's, shared with the web app.
export { type Role, STAFF_ROLES, type StaffRole };

/** Who is acting. Every service call gets one; every query filters by its tenantId. */
export interface Actor {
  kind: "user" | "token" | "customer" | "system";
  id: string;
  tenantId: string;
  role: Role | "customer" | "system";
  /** Set for supplier users: they only ever see this supplier's data. */
  supplierId?: string;
  /** Set for portal customers: they only ever see this order. */
  orderId?: string;
  name?: string;
  locale: "zh-CN" | "en";
}

export interface DomainEvent {
  type: string;
  tenantId: string;
  entityId: string;
  data: Record<string, unknown>;
  /** A key unique to this happening, so that consumers can drop duplicates. */
  key: string;
  /**
   * Set on an event's job when its transaction knew the tenant's webhooks: whether one of them
   * subscribes to it (false: the job delivers to none without asking again). Absent: not known.
   */
  webhooks?: boolean;
}

/** Something that reacts to domain events inside the transaction that caused them. */
export type EventSink = (tx: Tx, event: DomainEvent) => Promise<void>;

/** Evidence and other files: local directory by default, S3-compatible for scale-out. */
export interface FileStorage {
  put(key: string, data: Buffer, mime: string): Promise<void>;
  get(key: string): Promise<Buffer | null>;
}

/** What the services need from the outside world; built once per process and passed down. */
export interface Deps {
  h: DbHandle;
  db: DbHandle["db"];
  clock: Clock;
  config: Config;
  storage: FileStorage;
  eventSinks: EventSink[];
  /** Extra per-capability services registered at start-up (payment gateways, mailers, ...). */
  services: Record<string, unknown>;
}

export async function emit(deps: Deps, tx: Tx, event: DomainEvent): Promise<void> {
  for (const sink of deps.eventSinks) await sink(tx, event);
}

export type { Executor };
