import { useQuery } from "@tanstack/react-query";
import { Descriptions } from "antd";
import i18n from "i18next";
import { useTranslation } from "react-i18next";
import { api, money, when } from "../api";
import { carrierName, payMethodName } from "../names";
import type { CaseView } from "../types/views";

// The customer's case at a glance, on a phone: what they get back and how, what happens next and
// by when, the tracking number they entered, and — once the return is approved — where to send it.

i18n.addResourceBundle(
  "zh-CN",
  "translation",
  {
    "pc.refund": "退款金额",
    "pc.refunded": "已退款",
    "pc.route": "退回方式",
    "pc.next": "下一步",
    "pc.by": "截止时间",
    "pc.tracking": "退货运单号",
    "pc.returnTo": "退货地址",
    "pc.step.submitted": "客服审核您的申请",
    "pc.step.info_requested": "请补充客服要求的资料",
    "pc.step.approved": "请按退货地址寄回商品",
    "pc.step.awaiting_return": "请按退货地址寄回商品并填写运单号",
    "pc.step.return_in_transit": "商家仓库签收您的退货",
    "pc.step.received": "仓库验货",
    "pc.step.inspected": "商家为您退款",
    "pc.step.refund_pending": "退款正在退回您的账户",
    "pc.step.offer_pending": "请确认商家给出的方案",
    "pc.step.fulfilling": "商家为您补发或换货",
    "pc.step.done": "已处理完毕",
  },
  true,
  false,
);
i18n.addResourceBundle(
  "en",
  "translation",
  {
    "pc.refund": "Refund",
    "pc.refunded": "Refunded",
    "pc.route": "Paid back to",
    "pc.next": "Next step",
    "pc.by": "By",
    "pc.tracking": "Return tracking number",
    "pc.returnTo": "Return address",
    "pc.step.submitted": "Customer service reviews your request",
    "pc.step.info_requested": "Please send the information customer service asked for",
    "pc.step.approved": "Send the goods back to the return address",
    "pc.step.awaiting_return": "Send the goods back to the return address and enter the tracking number",
    "pc.step.return_in_transit": "The merchant's warehouse receives your parcel",
    "pc.step.received": "The warehouse inspects the goods",
    "pc.step.inspected": "The merchant refunds you",
    "pc.step.refund_pending": "The refund is on its way to your account",
    "pc.step.offer_pending": "Please answer the merchant's offer",
    "pc.step.fulfilling": "The merchant reships or exchanges the goods",
    "pc.step.done": "All done",
  },
  true,
  false,
);

/** Statuses before the merchant said yes, or after it said no: no return address then. */
const NOT_APPROVED = ["submitted", "info_requested", "rejected", "cancelled"];

export function CaseSummary({ c }: { c: CaseView }) {
  const { t } = useTranslation();
  const r = useQuery({
    queryKey: ["portal-refund", c.id, c.status],
    queryFn: () =>
      api<{ refund: { amount: number; refunded: boolean; byMethod: { method: string; amount: number }[] } | null }>(
        "GET",
        `/portal/api/cases/${c.id}/refund`,
      ),
  }).data?.refund;
  const step = t(`pc.step.${c.status}`, { defaultValue: t("pc.step.done") });
  const a = c.returnAddress;
  return (
    <Descriptions size="small" column={1} data-testid="portal-summary" style={{ marginTop: 8 }}>
      {r && (
        <Descriptions.Item label={r.refunded ? t("pc.refunded") : t("pc.refund")}>
          <b data-testid="portal-refund">{money(r.amount)}</b>
        </Descriptions.Item>
      )}
      {r && r.byMethod.length > 0 && (
        <Descriptions.Item label={t("pc.route")}>
          <span data-testid="portal-route">{r.byMethod.map((m) => `${payMethodName(t, m.method)} ${money(m.amount)}`).join("，")}</span>
        </Descriptions.Item>
      )}
      <Descriptions.Item label={t("pc.next")}>
        <span data-testid="portal-next">{step}</span>
      </Descriptions.Item>
      {c.deadlines?.current && (
        <Descriptions.Item label={t("pc.by")}>
          <span data-testid="portal-deadline">{when(c.deadlines.current.at, c.shopTimezone)}</span>
        </Descriptions.Item>
      )}
      {c.returnShipment && (
        <Descriptions.Item label={t("pc.tracking")}>
          <span data-testid="portal-tracking">{`${carrierName(t, c.returnShipment.carrier)} ${c.returnShipment.trackingNo}`}</span>
        </Descriptions.Item>
      )}
      {a && !NOT_APPROVED.includes(c.status) && (
        <Descriptions.Item label={t("pc.returnTo")}>
          <span data-testid="portal-return-address">
            {[a.province, a.city, a.district, a.line1, a.name, a.phone].filter(Boolean).join(" ")}
          </span>
        </Descriptions.Item>
      )}
    </Descriptions>
  );
}
