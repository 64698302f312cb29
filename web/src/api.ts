import i18n from "i18next";
/** The one way the web app talks to the API: JSON in and out, errors as ApiError with field messages. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let portalToken: string | null = sessionStorage.getItem("dd_portal_token");
export function setPortalToken(t: string | null) {
  portalToken = t;
  if (t) sessionStorage.setItem("dd_portal_token", t);
  else sessionStorage.removeItem("dd_portal_token");
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (path.startsWith("/portal/api") && portalToken) headers.authorization = `Bearer ${portalToken}`;
  // Errors come back in the language of the screen.
  headers["accept-language"] = i18n.language === "en" ? "en" : "zh-CN";
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? "error", e.message ?? res.statusText, e.details?.fields ?? [], e.details ?? {});
  }
  return data as T;
}

const grouped = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** Every amount on every screen: fen in, `¥5,521.00` or `-¥5,521.00` out. */
export const money = (minor: number | null | undefined, currency = "CNY") =>
  minor === null || minor === undefined
    ? "—"
    : `${minor < 0 ? "-" : ""}${currency === "CNY" ? "¥" : `${currency} `}${grouped.format(Math.abs(minor) / 100)}`;
export const when = (t: string | null | undefined) => (t ? new Date(t).toLocaleString() : "—");
