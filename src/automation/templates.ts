/** Default notification texts per event and locale; a tenant can override any of them. */
export type Locale = "zh-CN" | "en";
export interface Template {
  subject: string;
  body: string;
}

export const DEFAULT_TEMPLATES: Record<string, Record<Locale, Template>> = {
  "case.submitted": {
    "zh-CN": {
      subject: "售后申请已受理 {{caseNo}}",
      body: "您好，您的订单 {{orderNo}} 的售后申请 {{caseNo}} 已受理，我们会在 {{deadline}} 前处理。",
    },
    en: {
      subject: "We received your request {{caseNo}}",
      body: "Hello, your after-sales request {{caseNo}} for order {{orderNo}} is received; we will answer by {{deadline}}.",
    },
  },
  "case.approved": {
    "zh-CN": { subject: "售后申请已同意 {{caseNo}}", body: "您的售后申请 {{caseNo}} 已同意。{{returnInstructions}}" },
    en: { subject: "Your request {{caseNo}} is approved", body: "Your request {{caseNo}} is approved. {{returnInstructionsEn}}" },
  },
  "case.rejected": {
    "zh-CN": { subject: "售后申请未通过 {{caseNo}}", body: "很抱歉，您的售后申请 {{caseNo}} 未通过：{{note}}" },
    en: { subject: "Your request {{caseNo}} was declined", body: "We are sorry: your request {{caseNo}} was declined: {{note}}" },
  },
  "case.info_requested": {
    "zh-CN": { subject: "请补充售后信息 {{caseNo}}", body: "为处理您的售后申请 {{caseNo}}，请补充：{{note}}" },
    en: { subject: "More information needed for {{caseNo}}", body: "To handle your request {{caseNo}} we need: {{note}}" },
  },
  "case.refunded": {
    "zh-CN": { subject: "退款已到账 {{amount}}", body: "您的售后单 {{caseNo}} 已退款 {{amount}}，原路退回。" },
    en: { subject: "Refunded {{amount}}", body: "Your request {{caseNo}} was refunded {{amount}} to your original payment method." },
  },
  "case.closed": {
    "zh-CN": { subject: "售后已完成，请为我们评分", body: "您的售后单 {{caseNo}} 已完成。欢迎为本次服务评分：{{surveyUrl}}" },
    en: {
      subject: "Your request is complete — how did we do?",
      body: "Your request {{caseNo}} is complete. Please rate our service: {{surveyUrl}}",
    },
  },
  "supplier_order.shipped": {
    "zh-CN": { subject: "您的订单已发货 {{orderNo}}", body: "您的订单 {{orderNo}} 已发货，{{carrier}} 运单号 {{trackingNo}}。" },
    en: {
      subject: "Order {{orderNo}} has shipped",
      body: "Your order {{orderNo}} has shipped with {{carrier}}, tracking number {{trackingNo}}.",
    },
  },
  // A staff message in the customer's thread of a case (or of an order before any case), and in the
  // supplier's thread (src/conversations): the text itself and a link that opens the thread.
  "message.to_customer": {
    "zh-CN": { subject: "客服回复了您 {{caseNo}}", body: "{{message}}\n查看并回复：{{link}}" },
    en: { subject: "Customer service replied {{caseNo}}", body: "{{message}}\nRead and reply: {{link}}" },
  },
  "message.to_supplier": {
    "zh-CN": { subject: "售后单 {{caseNo}} 有新消息", body: "{{message}}\n请在供应商后台查看并回复：{{link}}" },
    en: { subject: "New message on case {{caseNo}}", body: "{{message}}\nRead and reply in the supplier portal: {{link}}" },
  },
  "claim.opened": {
    "zh-CN": {
      subject: "索赔通知 {{amount}}",
      body: "售后单 {{caseNo}} 由贵方原因造成，索赔金额 {{amount}}，请于 {{deadline}} 前在供应商后台确认或申诉。",
    },
    en: {
      subject: "Claim notice {{amount}}",
      body: "Case {{caseNo}} was caused on your side; the claim is {{amount}}. Please accept or dispute it in the supplier portal by {{deadline}}.",
    },
  },
};

/** Replaces {{name}} with the variable's value; unknown variables become empty. */
export function render(text: string, vars: Record<string, string | number | null | undefined>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => (vars[k] === null || vars[k] === undefined ? "" : String(vars[k])));
}

export const formatAmount = (minor: number, currency = "CNY") => `${currency === "CNY" ? "¥" : `${currency} `}${(minor / 100).toFixed(2)}`;
