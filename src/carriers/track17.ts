import { createHash } from "node:crypto";
import type { TrackingStatus } from "./kuaidi100.js";
import type { Entry } from "./tracking.js";

/**
 * 17TRACK's tracking API v2.2, as its public documentation gives it, for cross-border shops: JSON
 * posts to `{endpoint}/track/v2.2/<method>` with the security key in the `17token` header, at most
 * 40 numbers a call, answers `{code, data: {accepted, rejected}}` (a rejected number carries
 * `error: {code, message}`); webhooks post JSON with a `sign` header = SHA-256 hex of the raw body
 * + "/" + the security key. Pure functions; the calls are in track17-client.ts.
 */

export const TRACK17_BATCH = 40;
export const TRACK17_PREFIX = "/track/v2.2";

export const track17Sign = (rawBody: string | Buffer, key: string) =>
  createHash("sha256")
    .update(Buffer.concat([Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, "utf8"), Buffer.from(`/${key}`, "utf8")]))
    .digest("hex");

/** The error codes of the documentation (envelope and per number), with what Dropdesk does about each. */
export const TRACK17_ERRORS: Record<number, { kind: "auth" | "transient" | "refused" | "done" | "later"; words: string }> = {
  [-18010001]: { kind: "auth", words: "this server's IP address is not on the 17TRACK account's whitelist" },
  [-18010002]: { kind: "auth", words: "17TRACK refused the security key" },
  [-18010003]: { kind: "transient", words: "17TRACK had an internal error; it is tried again later" },
  [-18010004]: { kind: "auth", words: "the 17TRACK account is disabled" },
  [-18010005]: { kind: "auth", words: "17TRACK refused the access" },
  [-18010012]: { kind: "refused", words: "17TRACK says the number's format is not valid" },
  [-18010013]: { kind: "refused", words: "17TRACK refused the submitted data" },
  [-18010014]: { kind: "refused", words: "more than 40 numbers in one call" },
  [-18019901]: { kind: "done", words: "already registered with 17TRACK" },
  [-18019903]: { kind: "refused", words: "17TRACK cannot tell the carrier from the number; choose the carrier from the list" },
  [-18019907]: { kind: "later", words: "the 17TRACK account's daily limit is used up; it is tried again later" },
  [-18019908]: { kind: "refused", words: "the 17TRACK account has no tracking quota left" },
  [-18019910]: { kind: "refused", words: "17TRACK says the carrier is not right for this number" },
};

export const track17Error = (code: number, message?: string) =>
  TRACK17_ERRORS[code] ?? { kind: "refused" as const, words: `17TRACK refused it: ${code} ${message ?? ""}`.trim() };

/**
 * 17TRACK's carrier keys of the carriers on Dropdesk's list it is most used for. Numbers of other
 * carriers are registered without one (17TRACK detects the carrier) and matched by number.
 */
const CARRIER_KEYS: Record<string, number> = {
  dhl: 100001,
  ups: 100002,
  fedex: 100003,
  tnt: 100004,
  usps: 21051,
  youzhengguoji: 3011,
  emsguoji: 3013,
  yanwen: 190012,
};
const CODE_OF_KEY = new Map(Object.entries(CARRIER_KEYS).map(([code, key]) => [key, code]));

export const track17Carrier = (code: string | null | undefined) => (code ? CARRIER_KEYS[code] : undefined);
export const carrierOfKey = (key: unknown) => CODE_OF_KEY.get(Number(key));

/**
 * Main statuses (stage) and sub-statuses of a 17TRACK event onto Dropdesk's tracking statuses —
 * the same statuses 快递100's states map onto, so both act alike.
 */
export function statusOf17(stage: string | null | undefined, sub: string | null | undefined): TrackingStatus {
  const s = String(sub ?? "");
  if (s === "InTransit_PickedUp") return "picked_up";
  if (s === "Exception_Returning" || s === "Exception_Returned") return "returned";
  if (s === "Exception_Rejected" || s === "DeliveryFailure_Rejected") return "refused";
  const main = String(stage ?? "") || s.split("_")[0];
  switch (main) {
    case "InfoReceived":
    case "NotFound":
      return "info";
    case "InTransit":
      return "in_transit";
    case "AvailableForPickup":
    case "OutForDelivery":
      return "out_for_delivery";
    case "Delivered":
      return "delivered";
    case "DeliveryFailure":
    case "Exception":
    case "Expired":
      return "exception";
    default:
      return "in_transit";
  }
}

export interface Track17Event {
  time_iso?: string | null;
  time_utc?: string | null;
  description?: string | null;
  location?: string | null;
  stage?: string | null;
  sub_status?: string | null;
}

export interface Track17Data {
  number?: string;
  carrier?: number;
  tag?: string | null;
  track_info?: {
    latest_status?: { status?: string; sub_status?: string };
    tracking?: { providers?: { provider?: { key?: number; name?: string }; events?: Track17Event[] }[] };
  } | null;
}

/** An event's instant: `time_utc`, else `time_iso` with its offset; null when neither reads. */
function instantOf(e: Track17Event): Date | null {
  for (const text of [e.time_utc, e.time_iso]) {
    if (!text || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) continue;
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at;
  }
  return null;
}

/** A webhook's events (every provider's, the whole history each time) as tracking entries. */
export function track17Entries(nu: string, data: Track17Data): Entry[] {
  const out: Entry[] = [];
  for (const provider of data.track_info?.tracking?.providers ?? []) {
    for (const e of provider.events ?? []) {
      const at = instantOf(e);
      if (!at) continue;
      const context = [e.location, e.description].filter(Boolean).join(" ").slice(0, 1000);
      const digest = createHash("sha256").update(context).digest("hex").slice(0, 16);
      out.push({ at, status: statusOf17(e.stage, e.sub_status), context, key: `track17:${nu}:${at.toISOString()}:${digest}` });
    }
  }
  return out;
}
