// The shapes of the API's small answers the web app reads. Only the fields the screens use; the
// larger views (a case, an order, the analytics reports, money, automation) are in types/*.ts.
import type {
  BlocklistKind,
  ComplaintStatus,
  LedgerAccount,
  RefundKind,
  RefundMethod,
  RefundStatus,
  Role,
  Severity,
  StaffRole,
} from "../../src/domain/vocabulary";

/** A page of a list: its items and the cursor of the next page, if any. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Shop {
  id: string;
  name: string;
  platform: string;
  timezone: string;
  currency: string;
  routeBySupplierScore: boolean;
}

export interface Supplier {
  id: string;
  name: string;
  email: string | null;
  active: boolean;
  terms: { acceptsReturns: boolean };
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  supplierId: string | null;
  active: boolean;
}

export interface ApiToken {
  id: string;
  name: string;
  role: StaffRole;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface Refund {
  id: string;
  kind: RefundKind;
  amount: number;
  method: RefundMethod;
  status: RefundStatus;
  allowedActions: string[];
}

export interface TrialBalance {
  balanced: boolean;
  total: number;
  accounts: { account: LedgerAccount; balance: number }[];
}

export interface Complaint {
  id: string;
  orderId: string | null;
  caseId: string | null;
  severity: Severity;
  status: ComplaintStatus;
  ownerId: string | null;
  subject: string;
  resolution: string | null;
  dueAt: string;
  allowedActions: string[];
}

export interface BlocklistEntry {
  id: string;
  kind: BlocklistKind;
  value: string;
  reason: string | null;
  createdAt: string;
}
