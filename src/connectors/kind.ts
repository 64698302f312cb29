import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { OrderInput } from "../orders/order.schemas.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";

/**
 * What every service (Shopify now; Taobao, payment gateways and carriers later) plugs into the
 * connector framework. The framework owns the rows, the encrypted secrets, the jobs with their
 * checkpoints, back-off and rate-limit waits, the webhook inbox and the upserts; a kind only talks
 * its service's protocol and maps its records.
 */

export interface ConnectorRow {
  id: string;
  tenant_id: string;
  shop_id: string | null;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  secrets: string | null;
  status: "active" | "paused" | "error";
  last_sync_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  sync_cursor: unknown;
  sync_attempts: number;
  sync_running_since: Date | null;
  next_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** How long to wait and how often to try; tests shorten them. */
export interface ConnectorOptions {
  timeoutMs: number;
  /** First back-off delay after a failure; doubled for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures in a row after which the connector turns `error` and stops retrying. */
  maxAttempts: number;
  /** Waits up to this long inside a job (a rate limit's Retry-After); longer ones reschedule the job. */
  maxInlineWaitMs: number;
  /** Retries of a failed call inside the job before the job is rescheduled. */
  inlineRetries: number;
  /** Pages one sync job pulls before it hands over to a new job (lets other work run). */
  pagesPerJob: number;
  /** A sync whose process died holds the connector this long before another may take over. */
  leaseMs: number;
  /** Called after each record a sync wrote (tests use it to crash mid-page). */
  afterRecord?: (connectorId: string, externalId: string) => void | Promise<void>;
  sleep: (ms: number) => Promise<void>;
}

export interface ConnectorContext {
  deps: Deps;
  connector: ConnectorRow;
  /** The settings: the plain config and the decrypted secrets together. */
  settings: Record<string, string | undefined>;
  options: ConnectorOptions;
  /** The shop the connector imports into, when it is bound to one. */
  shop?: { id: string; currency: string; timezone: string };
  /** The connector as an actor: what it writes is audited as `system` with the connector's id. */
  actor: Actor;
  log(level: "info" | "warn" | "error", message: string, externalId?: string): Promise<void>;
}

/**
 * An order as the service has it, mapped to what `POST /api/v1/orders` takes (the shop filled in by
 * the framework), or the reason it cannot be imported. Keyed on the service's own id.
 */
export interface ExternalOrder {
  externalId: string;
  platformOrderNo: string;
  updatedAt?: Date;
  cancelled: boolean;
  order?: Omit<OrderInput, "shopId">;
  refusal?: string;
}

export interface SyncPageResult {
  /** Where the next page starts; saved (the checkpoint) after the page's records are written. */
  cursor: unknown;
  done: boolean;
  records: number;
}

export type WebhookVerdict =
  | { ok: false; status: number; message: string }
  | { ok: true; deliveryId: string; topic: string; payload: Record<string, unknown> };

export interface PushRequest {
  action: string;
  key: string;
  entityId: string;
  data: Record<string, unknown>;
}

export interface ConnectorKind {
  kind: string;
  /** The whole config as typed in (secret fields included). */
  configSchema: z.ZodObject<z.ZodRawShape>;
  /** Fields of the config that are secret: encrypted at rest, never returned, masked in the console. */
  secretFields: readonly string[];
  /** Order connectors import into a shop, so they must be bound to one. */
  needsShop: boolean;
  /** Checks the credentials against the service; the answer is in words. */
  test(ctx: ConnectorContext): Promise<{ ok: boolean; message: string; details?: Record<string, unknown> }>;
  /**
   * Pulls one page from the cursor (null: from the beginning) and writes its records: one by one
   * with `write`, or a page at once with `writeMany` (the import's set-based path, src/connectors/batch.ts).
   */
  syncPage(
    ctx: ConnectorContext,
    cursor: unknown,
    write: (o: ExternalOrder) => Promise<void>,
    writeMany?: (orders: ExternalOrder[]) => Promise<void>,
  ): Promise<SyncPageResult>;
  /** Verifies an inbound webhook with the service's own signature scheme. */
  verifyWebhook?(ctx: ConnectorContext, req: FastifyRequest, rawBody: Buffer, reply: FastifyReply): Promise<WebhookVerdict>;
  /** The answer the service expects for an accepted webhook. */
  webhookAnswer?: { status: number; body: unknown };
  /** Handles a stored webhook (run by a job). */
  handleWebhook?(
    ctx: ConnectorContext,
    topic: string,
    payload: Record<string, unknown>,
    write: (o: ExternalOrder) => Promise<void>,
  ): Promise<void>;
  /** The domain event types this kind sends back to its service (see pushesFor). */
  pushEvents?: readonly string[];
  /** What a domain event on an order this connector imported should send back to the service. */
  pushesFor?(event: DomainEvent, connectorId: string): PushRequest[];
  push?(
    ctx: ConnectorContext,
    req: { action: string; entityId: string; data: Record<string, unknown> },
  ): Promise<{ externalId?: string; note?: string }>;
  /**
   * Subscribes the service's webhooks to the connector's address (on create and on each test),
   * listing what is there first so nothing is subscribed twice; the answer is in words.
   */
  registerWebhooks?(ctx: ConnectorContext, webhookUrl: string): Promise<{ ok: boolean; message: string }>;
  /** The record's page on the service, for the console's link. */
  recordUrl?(settings: Record<string, string | undefined>, recordType: string, externalId: string): string | null;
}
