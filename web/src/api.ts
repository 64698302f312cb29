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

/** The viewer's own time zone, as the browser reports it. */
export const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const knownZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const BEIJING = new Set(["Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC"]);
/** A time zone's name for the screen's language: 北京时间 GMT+8, 纽约时间 GMT-5 (the offset at `at`). */
export function zoneName(tz: string, at: Date = new Date()) {
  const lang = i18n.language === "en" ? "en" : "zh-CN";
  const part = (style: "shortGeneric" | "shortOffset") =>
    new Intl.DateTimeFormat(lang, { timeZone: tz, timeZoneName: style }).formatToParts(at).find((p) => p.type === "timeZoneName")?.value ??
    "";
  const offset = part("shortOffset");
  const name = tz === "Asia/Shanghai" || BEIJING.has(tz) ? i18n.t("tz.beijing") : part("shortGeneric");
  return name && name !== offset ? `${name} ${offset}` : offset;
}
/**
 * Every time on every screen. With `timeZone` (the shop's), the time is the shop's wall clock,
 * followed by the zone's name when it is not the viewer's own.
 */
export function when(t: string | null | undefined, timeZone?: string | null) {
  if (!t) return "—";
  const d = new Date(t);
  const tz = timeZone && knownZone(timeZone) ? timeZone : undefined;
  const text = d.toLocaleString(undefined, tz ? { timeZone: tz } : undefined);
  if (!tz || tz === viewerZone()) return text;
  return i18n.t("tz.inZone", { time: text, zone: zoneName(tz, d) });
}
