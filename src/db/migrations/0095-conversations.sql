-- Conversations: per case three threads (with the customer, with the supplier, internal notes) and
-- per order one customer thread for questions before any case. A message is written once and never
-- edited; its read state is that of the other side: staff for a customer's or supplier's message,
-- the customer or the supplier for a staff message in their thread.
CREATE TABLE messages (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  case_id uuid REFERENCES cases(id),
  visibility text NOT NULL CHECK (visibility IN ('customer', 'supplier', 'internal')),
  author_kind text NOT NULL CHECK (author_kind IN ('staff', 'customer', 'supplier', 'system')),
  author_id text,
  author_name text NOT NULL DEFAULT '',
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  quick_reply_id uuid,
  read_at timestamptz,
  read_by text,
  -- A customer's message waits for an answer by the policy's first-response SLA; a staff reply in
  -- the same thread answers every waiting one; the sweep alerts once past the deadline.
  response_due_at timestamptz,
  answered_at timestamptz,
  overdue_alerted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The supplier talks about a case (its supplier order's goods), never about a bare order.
  CHECK (visibility <> 'supplier' OR case_id IS NOT NULL),
  CHECK (author_kind <> 'customer' OR visibility = 'customer'),
  CHECK (author_kind <> 'supplier' OR visibility = 'supplier')
);
CREATE INDEX messages_case_thread ON messages (case_id, created_at, id) WHERE case_id IS NOT NULL;
CREATE INDEX messages_order_thread ON messages (order_id, created_at, id) WHERE case_id IS NULL;
-- Unread counts and the inbox's unread filter read only the unread rows.
CREATE INDEX messages_unread ON messages (tenant_id, case_id, visibility, author_kind) WHERE read_at IS NULL;
CREATE INDEX messages_unanswered ON messages (response_due_at)
  WHERE answered_at IS NULL AND overdue_alerted_at IS NULL AND response_due_at IS NOT NULL;

-- Photos and short videos sent with a message, checked like evidence (content, size). Uploaded
-- first, then claimed by the message that sends them; until then only the uploader sees one.
CREATE TABLE message_attachments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  case_id uuid REFERENCES cases(id),
  message_id uuid REFERENCES messages(id),
  kind text NOT NULL CHECK (kind IN ('image', 'video')),
  mime text NOT NULL,
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  storage_key text NOT NULL,
  filename text,
  uploaded_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_attachments_message ON message_attachments (message_id);

-- Quick replies (快捷短语) of a tenant, with {{variables}} rendered for the case at hand. `purpose`
-- says where the console offers one: the message composer, or the note of a reject / request-info.
CREATE TABLE quick_replies (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  purpose text NOT NULL DEFAULT 'message' CHECK (purpose IN ('message', 'reject', 'request_info')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, title)
);
