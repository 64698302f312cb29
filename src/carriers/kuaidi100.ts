import { createHash } from "node:crypto";

/**
 * 快递100's protocol, as its public documentation gives it: form posts of a JSON `param` signed
 * with upper-case hex MD5, times in Beijing time, and the state codes of a parcel. Pure functions;
 * the calls themselves are in client.ts.
 */

export const md5Upper = (text: string) => createHash("md5").update(text, "utf8").digest("hex").toUpperCase();

/** The sign of a push (and of every callback): MD5(param + salt), the salt given at subscription. */
export const pushSign = (param: string, salt: string) => md5Upper(param + salt);
/** The sign of a subscription (订阅): MD5(param + key + customer). */
export const pollSign = (param: string, key: string, customer: string) => md5Upper(param + key + customer);
/** The sign of the courier-order (寄件) and label (拦截) APIs: MD5(param + t + key + secret). */
export const apiSign = (param: string, t: string, key: string, secret: string) => md5Upper(param + t + key + secret);

/** Two signs compared in constant time (both upper-case hex). */
export function signMatches(given: string | undefined, expected: string): boolean {
  if (!given || given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= given.toUpperCase().charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** `YYYY-MM-DD HH:mm:ss` in Beijing time (UTC+8, no daylight saving) as an instant; null if malformed. */
export function beijingTime(text: string | undefined | null): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(text ?? "").trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  const at = new Date(Date.UTC(y, mo - 1, d, h - 8, mi, s));
  // Refuse dates that rolled over (2026-02-30) rather than guess.
  const back = new Date(at.getTime() + 8 * 3600_000);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return at;
}

/** An instant as 快递100 writes it: Beijing time, `YYYY-MM-DD HH:mm:ss`. */
export function toBeijingText(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().replace("T", " ").slice(0, 19);
}

/** The statuses of a tracking event (the `tracking_events.status` check). */
export type TrackingStatus = "info" | "picked_up" | "in_transit" | "out_for_delivery" | "delivered" | "exception" | "returned" | "refused";

/**
 * The parcel states (lastResult.state, and each entry's status with resultv2): 0 在途, 1 揽收,
 * 2 疑难, 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关, 14 拒签, and the three-digit sub-states of
 * the extended list (101–103 揽收, 201–211 疑难, 301–304 签收, 401 退签, 501 派件, …), which
 * belong to their first digit.
 */
const STATES: Record<string, { status: TrackingStatus; zh: string }> = {
  "0": { status: "in_transit", zh: "在途" },
  "1": { status: "picked_up", zh: "揽收" },
  "2": { status: "exception", zh: "疑难" },
  "3": { status: "delivered", zh: "签收" },
  "4": { status: "returned", zh: "退签" },
  "5": { status: "out_for_delivery", zh: "派件" },
  "6": { status: "returned", zh: "退回" },
  "7": { status: "in_transit", zh: "转投" },
  "8": { status: "in_transit", zh: "清关" },
  "10": { status: "in_transit", zh: "待清关" },
  "11": { status: "in_transit", zh: "清关中" },
  "12": { status: "in_transit", zh: "已清关" },
  "13": { status: "exception", zh: "清关异常" },
  "14": { status: "refused", zh: "拒签" },
};
const BY_WORD = new Map(Object.values(STATES).map((s) => [s.zh, s.status]));

/** Our tracking status for a 快递100 state code, or for the word an entry carries (`签收`, `拒签`). */
export function statusOfState(state: string | number | undefined | null): TrackingStatus | null {
  if (state === undefined || state === null || state === "") return null;
  const text = String(state).trim();
  if (STATES[text]) return STATES[text].status;
  if (/^\d{3}$/.test(text)) {
    // 1xx–6xx sub-states share their parent's meaning.
    const parent = STATES[text[0]];
    if (parent) return parent.status;
  }
  return BY_WORD.get(text) ?? null;
}

/** The Chinese word of a state code, for the timeline. */
export const stateWord = (state: string | undefined | null) => (state ? (STATES[state]?.zh ?? STATES[state[0]]?.zh ?? state) : "");

export interface PushEntry {
  context?: string;
  time?: string;
  ftime?: string;
  status?: string;
  statusCode?: string;
  areaName?: string;
}

export interface PushResult {
  message?: string;
  state?: string;
  status?: string;
  condition?: string;
  ischeck?: string;
  com?: string;
  nu?: string;
  data?: PushEntry[];
}

/** The `param` of a push (推送): the whole history each time, newest entry first. */
export interface PushParam {
  status?: "polling" | "shutdown" | "abort" | "updateall" | string;
  billstatus?: string;
  message?: string;
  autoCheck?: string;
  comOld?: string;
  comNew?: string;
  lastResult?: PushResult;
  destResult?: PushResult;
}

/** The answer 快递100 waits for; anything else (or none) and it pushes again later. */
export const PUSH_OK = { result: true, returnCode: "200", message: "成功" } as const;
export const pushRefused = (message: string) => ({ result: false, returnCode: "500", message });

/** A parsed form body (application/x-www-form-urlencoded), the way every callback arrives. */
export function formFields(body: unknown): Record<string, string> {
  if (typeof body === "string") return Object.fromEntries(new URLSearchParams(body));
  if (body && typeof body === "object") return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
  return {};
}
