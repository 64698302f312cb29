import { ServiceError, serviceRequest } from "../connectors/http.js";
import type { Deps } from "../platform/context.js";
import { outboundPolicy } from "../platform/outbound.js";
import { apiSign, pollSign } from "./kuaidi100.js";

/**
 * Calls to 快递100: the subscription (订阅, `POST {endpoint}/poll`), the courier order (商家寄件,
 * `POST {endpoint}/order/borderapi.do`, methods `create` and `cancel`) and the interception
 * (`POST {labelEndpoint}/label/order?method=interceptOrder`). Every one is a form post through the
 * outbound guard; the service's base URLs are settings (tests point them at the emulator).
 */
export interface Kuaidi100Settings {
  customer: string;
  key: string;
  salt: string;
  /** Signs the courier-order and interception calls; subscriptions do not need it. */
  secret?: string;
  endpoint: string;
  labelEndpoint?: string;
  timeoutMs: number;
}

export function settingsOf(settings: Record<string, string | undefined>, timeoutMs: number): Kuaidi100Settings {
  const endpoint = settings.endpoint ?? process.env.DROPDESK_KUAIDI100_URL;
  if (!settings.customer || !settings.key || !settings.salt)
    throw new ServiceError("auth", "the 快递100 connector needs customer, key and salt");
  if (!endpoint) throw new ServiceError("refused", "set the 快递100 service's base URL (config.endpoint or DROPDESK_KUAIDI100_URL)");
  return {
    customer: settings.customer,
    key: settings.key,
    salt: settings.salt,
    secret: settings.secret,
    endpoint: endpoint.replace(/\/+$/, ""),
    labelEndpoint: settings.labelEndpoint?.replace(/\/+$/, ""),
    timeoutMs,
  };
}

type Answer = Record<string, unknown>;

async function postForm(deps: Deps, s: Kuaidi100Settings, url: string, fields: Record<string, string>): Promise<Answer> {
  const r = await serviceRequest(url, {
    policy: outboundPolicy(deps.config.outboundAllow),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    timeoutMs: s.timeoutMs,
  });
  if (r.status === 429) throw new ServiceError("rate_limited", "快递100 asks to slow down", { status: 429 });
  if (r.status >= 500) throw new ServiceError("transient", `快递100 answered HTTP ${r.status}`, { status: r.status });
  if (r.status === 401 || r.status === 403)
    throw new ServiceError("auth", `快递100 refused the credentials (HTTP ${r.status})`, { status: r.status });
  try {
    return JSON.parse(r.body) as Answer;
  } catch {
    throw new ServiceError("transient", `快递100 answered HTTP ${r.status} with something that is not JSON`, { status: r.status });
  }
}

const signed = (s: Kuaidi100Settings, param: string, now: Date) => {
  if (!s.secret) throw new ServiceError("refused", "the 快递100 connector has no secret (needed for courier orders and interceptions)");
  const t = String(now.getTime());
  return { key: s.key, t, sign: apiSign(param, t, s.key, s.secret), param };
};

/** 订阅: asks 快递100 to push this number's history to `callbackurl`. Re-subscribing (501) is fine. */
export async function subscribe(
  deps: Deps,
  s: Kuaidi100Settings,
  p: { company: string; number: string; callbackurl: string; phone?: string },
) {
  const param = JSON.stringify({
    company: p.company,
    number: p.number,
    key: s.key,
    parameters: { callbackurl: p.callbackurl, salt: s.salt, resultv2: "1", ...(p.phone ? { phone: p.phone } : {}) },
  });
  const a = await postForm(deps, s, `${s.endpoint}/poll`, { schema: "json", param, sign: pollSign(param, s.key, s.customer) });
  const code = String(a.returnCode ?? "");
  if (a.result === true || code === "200" || code === "501") return { code, message: String(a.message ?? "") };
  const message = `subscription refused: ${code} ${String(a.message ?? "")}`.trim();
  if (code === "600" || code === "601") throw new ServiceError("auth", message);
  if (code.startsWith("5")) throw new ServiceError("transient", message);
  throw new ServiceError("refused", message);
}

function labelAnswer(a: Answer, what: string) {
  const ok = a.success === true || a.result === true || String(a.code ?? a.returnCode) === "200";
  if (ok) return (a.data ?? {}) as Answer;
  const code = String(a.code ?? a.returnCode ?? "");
  const message = `${what} refused: ${code} ${String(a.message ?? "")}`.trim();
  if (code.startsWith("5")) throw new ServiceError("transient", message);
  if (code === "401" || code === "403" || code === "600") throw new ServiceError("auth", message);
  throw new ServiceError("refused", message);
}

/** 拦截: asks the carrier to send the parcel back to the sender; the result comes to `callbackUrl`. */
export async function interceptOrder(
  deps: Deps,
  s: Kuaidi100Settings,
  p: { orderId: string; kuaidicom: string; kuaidinum: string; reason: string; callbackUrl: string },
) {
  const param = JSON.stringify({
    orderId: p.orderId,
    kuaidicom: p.kuaidicom,
    kuaidinum: p.kuaidinum,
    interceptType: "RETURN_SEND_ADDR",
    orderRole: "1",
    reason: p.reason,
    salt: s.salt,
    callbackUrl: p.callbackUrl,
  });
  const base = s.labelEndpoint ?? s.endpoint;
  const a = await postForm(deps, s, `${base}/label/order?method=interceptOrder`, {
    method: "interceptOrder",
    ...signed(s, param, deps.clock.now()),
  });
  const data = labelAnswer(a, "interception");
  return { taskId: data.taskId ? String(data.taskId) : null, message: String(a.message ?? "") };
}

export interface PickupRequest {
  kuaidicom: string;
  sendManName: string;
  sendManMobile: string;
  sendManPrintAddr: string;
  recManName: string;
  recManMobile: string;
  recManPrintAddr: string;
  cargo: string;
  dayType: string;
  pickupStartTime: string;
  pickupEndTime: string;
  thirdOrderId: string;
  callBackUrl: string;
  remark?: string;
}

/** 商家寄件 create: books a courier to pick the parcel up; answers the task, the order and, when known, the waybill. */
export async function createPickup(deps: Deps, s: Kuaidi100Settings, p: PickupRequest) {
  const param = JSON.stringify({ ...p, weight: "1", serviceType: "标准快递", payment: "SHIPPER", salt: s.salt });
  const a = await postForm(deps, s, `${s.endpoint}/order/borderapi.do`, { method: "create", ...signed(s, param, deps.clock.now()) });
  const data = labelAnswer(a, "courier order");
  return {
    taskId: data.taskId ? String(data.taskId) : null,
    orderId: data.orderId ? String(data.orderId) : null,
    kuaidinum: data.kuaidinum ? String(data.kuaidinum) : null,
  };
}

/** 商家寄件 cancel, before the courier came. */
export async function cancelPickup(deps: Deps, s: Kuaidi100Settings, p: { taskId: string; orderId: string; cancelMsg: string }) {
  const param = JSON.stringify(p);
  const a = await postForm(deps, s, `${s.endpoint}/order/borderapi.do`, { method: "cancel", ...signed(s, param, deps.clock.now()) });
  labelAnswer(a, "cancellation");
}
