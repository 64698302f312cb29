import { useQuery } from "@tanstack/react-query";
import { Form, Input, InputNumber, Select, Switch } from "antd";
import { useTranslation } from "react-i18next";
import { api } from "../api";
import i18n from "../i18n";

// The settings form of the connector kinds that need no screen of their own (carriers, payment
// gateways, supplier platforms): the fields come from GET /api/v1/connector-kinds, their names from
// here, so each kind is asked exactly what its settings schema takes.

export interface KindField {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "enum";
  required: boolean;
  secret: boolean;
  options?: string[];
}
export interface KindInfo {
  kind: string;
  needsShop: boolean;
  fields: KindField[];
}

/** The kinds beside Shopify and Taobao (which have their own forms), by their names. */
export const OTHER_KIND_NAMES: Record<string, { "zh-CN": string; en: string }> = {
  kuaidi100: { "zh-CN": "快递100（物流跟踪、拦截、上门取件）", en: "Kuaidi100 (tracking, interception, pickups)" },
  track17: { "zh-CN": "17TRACK（跨境物流跟踪）", en: "17TRACK (cross-border tracking)" },
  alipay: { "zh-CN": "支付宝（原路退款）", en: "Alipay (refunds by the original route)" },
  wechatpay: { "zh-CN": "微信支付（原路退款）", en: "WeChat Pay (refunds by the original route)" },
  stripe: { "zh-CN": "Stripe（原路退款）", en: "Stripe (refunds by the original route)" },
  alibaba1688: { "zh-CN": "1688 一件代发（供应商平台）", en: "1688 dropshipping (supplier platform)" },
  cj: { "zh-CN": "CJdropshipping（供应商平台）", en: "CJdropshipping (supplier platform)" },
};

const LABELS: Record<string, [string, string]> = {
  shopDomain: ["店铺域名", "Store domain"],
  accessToken: ["访问令牌", "Access token"],
  webhookSecret: ["Webhook 签名密钥", "Webhook signing secret"],
  customer: ["客户编号 (customer)", "Customer ID"],
  key: ["授权 key", "Authorisation key"],
  salt: ["推送签名 salt", "Push signing salt"],
  secret: ["寄件接口 secret", "Courier-order secret"],
  endpoint: ["接口地址（留空用官方地址）", "API address (blank for the service's own)"],
  labelEndpoint: ["电子面单接口地址", "Waybill API address"],
  interceptVia: ["拦截方式", "Interception goes to"],
  appKey: ["AppKey", "App key"],
  appSecret: ["AppSecret", "App secret"],
  flow: ["下单方式", "Order flow"],
  returnWindowDays: ["退货期限（天）", "Return window (days)"],
  disputeWindowDays: ["售后申请期限（天）", "Dispute window (days)"],
  apiKey: ["API 密钥", "API key"],
  qps: ["每秒调用上限", "Calls per second"],
  usdRate: ["美元汇率（1 美元 = ? 元）", "USD rate (CNY per USD)"],
  logisticName: ["物流方式", "Shipping method"],
  fromCountryCode: ["发货国家代码", "Ship-from country code"],
  payFromBalance: ["用账户余额支付", "Pay from the account balance"],
  appId: ["应用 APPID", "App ID"],
  privateKey: ["应用私钥（RSA2）", "App private key (RSA2)"],
  alipayPublicKey: ["支付宝公钥", "Alipay public key"],
  gateway: ["网关地址", "Gateway address"],
  referenceIs: ["订单上的支付单号是", "The order's payment reference is"],
  mchId: ["商户号", "Merchant ID"],
  merchantSerialNo: ["商户证书序列号", "Merchant certificate serial number"],
  merchantPrivateKey: ["商户私钥", "Merchant private key"],
  apiV3Key: ["APIv3 密钥", "API v3 key"],
  platformPublicKey: ["微信支付平台公钥", "WeChat Pay platform public key"],
  platformSerial: ["平台证书序列号", "Platform certificate serial number"],
  secretKey: ["Secret key", "Secret key"],
};
const OPTION_LABELS: Record<string, [string, string]> = {
  supplier: ["先问供应商", "The supplier first"],
  carrier: ["直接找快递公司", "The carrier at once"],
  saleproxy: ["代销（一件代发）", "Dropshipping (saleproxy)"],
  general: ["普通采购", "Ordinary purchase"],
  trade_no: ["支付宝交易号", "Alipay trade number"],
  out_trade_no: ["商户订单号", "Merchant order number"],
  transaction_id: ["微信支付订单号", "WeChat Pay transaction ID"],
};

for (const [lng, i] of [
  ["zh-CN", 0],
  ["en", 1],
] as const) {
  i18n.addResourceBundle(
    lng,
    "translation",
    {
      ...Object.fromEntries(Object.entries(LABELS).map(([k, v]) => [`cnf.${k}`, v[i]])),
      ...Object.fromEntries(Object.entries(OPTION_LABELS).map(([k, v]) => [`cnf.opt.${k}`, v[i]])),
      ...Object.fromEntries(Object.entries(OTHER_KIND_NAMES).map(([k, v]) => [`cnf.kind.${k}`, v[lng]])),
    },
    true,
    false,
  );
}

export function useConnectorKinds() {
  return useQuery({ queryKey: ["connector-kinds"], queryFn: () => api<{ items: KindInfo[] }>("GET", "/api/v1/connector-kinds") });
}

/** The label of a setting: its name in words, or (for a setting this screen does not know yet) the name itself. */
export function fieldLabel(t: (k: string) => string, name: string) {
  return LABELS[name] ? t(`cnf.${name}`) : name;
}

/** The settings of one kind as form items; a secret stays unchanged when left empty on edit. */
export function KindFields({ info, editing, secretHint }: { info: KindInfo; editing: boolean; secretHint?: string }) {
  const { t } = useTranslation();
  return (
    <>
      {info.fields.map((f) => (
        <Form.Item
          key={f.name}
          name={f.name}
          label={fieldLabel(t, f.name)}
          extra={f.secret ? secretHint : undefined}
          valuePropName={f.type === "boolean" ? "checked" : "value"}
          rules={f.required && !(f.secret && editing) ? [{ required: true }] : []}
        >
          {f.type === "enum" ? (
            <Select allowClear options={(f.options ?? []).map((o) => ({ value: o, label: OPTION_LABELS[o] ? t(`cnf.opt.${o}`) : o }))} />
          ) : f.type === "boolean" ? (
            <Switch />
          ) : f.type === "integer" || f.type === "number" ? (
            <InputNumber style={{ width: "100%" }} />
          ) : f.secret ? (
            /privatekey/i.test(f.name) ? (
              <Input.TextArea rows={3} autoComplete="off" spellCheck={false} />
            ) : (
              <Input.Password autoComplete="new-password" />
            )
          ) : f.name.toLowerCase().includes("publickey") ? (
            <Input.TextArea rows={3} spellCheck={false} />
          ) : (
            <Input autoComplete="off" />
          )}
        </Form.Item>
      ))}
    </>
  );
}
