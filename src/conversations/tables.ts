import type { ColumnType, Kysely } from "kysely";
import type { Database, Executor } from "../platform/db.js";

// The tables of migration 0095-conversations.sql, typed here in the generator's style so that this
// module compiles whether or not src/db/schema.ts has been regenerated with them yet; once it has,
// the two descriptions are the same types and their intersection changes nothing.
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Generated<T> = T extends ColumnType<infer S, infer I, infer U> ? ColumnType<S, I | undefined, U> : ColumnType<T, T | undefined, T>;

export const VISIBILITIES = ["customer", "supplier", "internal"] as const;
export type Visibility = (typeof VISIBILITIES)[number];
export type AuthorKind = "staff" | "customer" | "supplier" | "system";
export const QUICK_REPLY_PURPOSES = ["message", "reject", "request_info"] as const;
export type QuickReplyPurpose = (typeof QUICK_REPLY_PURPOSES)[number];

export type ConversationTables = {
  messages: {
    id: string;
    tenant_id: string;
    order_id: string;
    case_id: string | null;
    visibility: Visibility;
    author_kind: AuthorKind;
    author_id: string | null;
    author_name: Generated<string>;
    body: string;
    quick_reply_id: string | null;
    read_at: Timestamp | null;
    read_by: string | null;
    response_due_at: Timestamp | null;
    answered_at: Timestamp | null;
    overdue_alerted_at: Timestamp | null;
    created_at: Generated<Timestamp>;
  };
  message_attachments: {
    id: string;
    tenant_id: string;
    order_id: string;
    case_id: string | null;
    message_id: string | null;
    kind: "image" | "video";
    mime: string;
    size_bytes: number;
    storage_key: string;
    filename: string | null;
    uploaded_by: string;
    created_at: Generated<Timestamp>;
  };
  quick_replies: {
    id: string;
    tenant_id: string;
    title: string;
    body: string;
    purpose: Generated<QuickReplyPurpose>;
    created_at: Generated<Timestamp>;
    updated_at: Generated<Timestamp>;
  };
};

export type ConvDb = Kysely<Database & ConversationTables>;

/**
 * The executor with this module's tables. A transaction stays that transaction (Kysely's
 * `withTables` keeps its connection); start transactions from `deps.db`, never from the result,
 * so the process's transaction interceptor (idempotency records) still wraps them.
 */
export const conv = (ex: Executor): ConvDb => (ex as Kysely<Database>).withTables<ConversationTables>() as ConvDb;
