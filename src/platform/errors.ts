/**
 * One catalogue of error codes: each with its HTTP status and what it means, in zh-CN and in en.
 * Routes throw AppError; the server turns it into `{ error: { code, message, details } }` in the
 * caller's language (Accept-Language; English when none is asked for, as integrators expect).
 * Expected business refusals inside services are values (`{ ok: false, ... }`) and become AppErrors
 * at the edge.
 */
export const ERRORS = {
  validation_failed: { status: 400, "zh-CN": "提交的内容有误", en: "the request is not valid" },
  unauthorized: { status: 401, "zh-CN": "请先登录", en: "sign in first" },
  forbidden: { status: 403, "zh-CN": "没有权限执行此操作", en: "your role may not do this" },
  not_found: { status: 404, "zh-CN": "找不到要操作的记录", en: "not found" },
  invalid_transition: { status: 409, "zh-CN": "当前状态下不能执行此操作", en: "not possible in the current status" },
  conflict: { status: 409, "zh-CN": "与现有数据冲突，没有保存", en: "conflicts with the data as it is; nothing was saved" },
  policy_refused: { status: 422, "zh-CN": "售后政策不允许此申请", en: "the after-sales policy does not allow this" },
  idempotency_key_reuse: { status: 422, "zh-CN": "此幂等键已用于另一个请求", en: "this Idempotency-Key was used with another request" },
  refund_exceeds_refundable: { status: 422, "zh-CN": "退款金额超过可退金额", en: "more than remains refundable" },
  payload_too_large: { status: 413, "zh-CN": "上传的文件太大", en: "the upload is too large" },
  unsupported_media_type: { status: 415, "zh-CN": "不支持的内容类型", en: "unsupported content type" },
  rate_limited: { status: 429, "zh-CN": "尝试次数过多，请稍后再试", en: "too many attempts; try again later" },
  internal: { status: 500, "zh-CN": "系统出错了，没有做任何改动", en: "something went wrong on our side; nothing was changed" },
} as const;

export type ErrorCode = keyof typeof ERRORS;
export type Locale = "zh-CN" | "en";
/** A message in both languages, or English only (then zh-CN readers get the code's meaning). */
export type Text = string | { en: string; "zh-CN": string };

export const ERROR_STATUS = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])) as {
  [C in ErrorCode]: (typeof ERRORS)[C]["status"];
};

export class AppError extends Error {
  readonly status: number;
  /** The message in Chinese, when the thrower wrote one. */
  readonly zh?: string;
  constructor(
    readonly code: ErrorCode,
    message: Text,
    readonly details?: Record<string, unknown>,
  ) {
    super(typeof message === "string" ? message : message.en);
    if (typeof message !== "string") this.zh = message["zh-CN"];
    this.status = ERRORS[code].status;
  }
  /** The message for a reader of `locale`. */
  messageIn(locale: Locale): string {
    if (locale === "en") return this.message;
    return this.zh ?? ERRORS[this.code]["zh-CN"];
  }
}

/** The language a request asks for: zh-CN when its Accept-Language prefers any Chinese, else en. */
export function localeOf(acceptLanguage: string | undefined): Locale {
  const first = (acceptLanguage ?? "").split(",")[0]?.trim().toLowerCase() ?? "";
  return first.startsWith("zh") ? "zh-CN" : "en";
}

/** A field's own message for a reader of `locale`: its Chinese text, or the field's generic one. */
export function fieldMessageIn(f: { message: string; zh?: string }, locale: Locale): string {
  return locale === "en" ? f.message : (f.zh ?? "此项填写有误");
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const forbidden = (message = "your role may not do this") => new AppError("forbidden", message);
/** The one way to refuse a field: `validation_failed` naming it, with its message in one or both languages. */
export const validation = (field: string, message: Text, extra: Record<string, unknown> = {}) => {
  const en = typeof message === "string" ? message : message.en;
  const zh = typeof message === "string" ? undefined : message["zh-CN"];
  return new AppError("validation_failed", zh ? { en: `${field}: ${en}`, "zh-CN": zh } : `${field}: ${en}`, {
    fields: [{ field, message: en, ...(zh ? { zh } : {}) }],
    ...extra,
  });
};
export const invalidTransition = (entity: string, action: string, status: string, allowedActions: string[]) =>
  new AppError("invalid_transition", `cannot ${action} a ${entity} that is ${status}`, { status, allowedActions });

/**
 * The columns a PATCH sets, refused as `validation_failed` ("body: nothing to change") when there
 * are none: an empty body, or only values that change nothing, would make `UPDATE … SET WHERE`.
 */
export function requireChanges<T extends Record<string, unknown>>(set: T): T {
  if (!Object.values(set).some((v) => v !== undefined)) throw validation("body", { en: "nothing to change", "zh-CN": "没有要修改的内容" });
  return set;
}
