import { ServiceError } from "./http.js";

/**
 * A platform's answer that failed, with the platform's own code (1688's `gw.SignatureInvalid`,
 * CJ's 1600001 …) next to the kind the connector framework acts on (credentials, wait, retry,
 * or a refusal said in the platform's words).
 */
export class PlatformError extends ServiceError {
  constructor(
    readonly code: string,
    message: string,
    kind: ServiceError["kind"] = "refused",
    opts: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(kind, message, opts);
    this.name = "PlatformError";
  }
}
