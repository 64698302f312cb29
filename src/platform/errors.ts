/**
 * One catalogue of error codes with their HTTP status. Routes throw AppError; the server turns it
 * into `{ error: { code, message, details } }`. Expected business refusals inside services are
 * values (`{ ok: false, ... }`) and become AppErrors at the edge.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_transition: 409,
  conflict: 409,
  policy_refused: 422,
  idempotency_key_reuse: 422,
  refund_exceeds_refundable: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const forbidden = (message = "your role may not do this") => new AppError("forbidden", message);
export const validation = (field: string, message: string) =>
  new AppError("validation_failed", `${field}: ${message}`, { fields: [{ field, message }] });
export const invalidTransition = (entity: string, action: string, status: string, allowedActions: string[]) =>
  new AppError("invalid_transition", `cannot ${action} a ${entity} that is ${status}`, { status, allowedActions });

/**
 * The columns a PATCH sets, refused as `validation_failed` ("body: nothing to change") when there
 * are none: an empty body, or only values that change nothing, would make `UPDATE … SET WHERE`.
 */
export function requireChanges<T extends Record<string, unknown>>(set: T): T {
  if (!Object.values(set).some((v) => v !== undefined)) throw validation("body", "nothing to change");
  return set;
}
