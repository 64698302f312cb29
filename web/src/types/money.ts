// Supplier claims and statements as the API answers them. Their services import the server's
// request types, which the web build cannot follow, so the fields are copied here from claimOut
// (src/money/claim.service.ts) and statementOut (src/money/statement.service.ts).
import type { ClaimStatus } from "../../../src/domain/vocabulary";

/** A row of GET /api/v1/supplier-claims */
export interface Claim {
  id: string;
  supplierId: string;
  caseId: string | null;
  caseNo?: string | null;
  status: ClaimStatus;
  amount: number;
  breakdown: unknown;
  note: string | null;
  supplierNote: string | null;
  statementId: string | null;
  dueAt: string;
  answeredAt: string | null;
  settledAt: string | null;
  createdAt: string;
  allowedActions: string[];
}

/** A row of GET /api/v1/supplier-statements: a supplier's statement for a period. */
export interface Statement {
  id: string;
  supplierId: string;
  from: string;
  to: string;
  status: "open" | "closed";
  totals: { supplierOrders: number; claims: number; adjustments: number; payable: number };
  closedAt: string | null;
  createdAt: string;
  allowedActions: string[];
}
