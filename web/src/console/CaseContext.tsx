import { Card, Descriptions, Divider, Space, Typography } from "antd";
import i18n from "i18next";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useCaseDetails } from "./CaseQueues";

// What the agent needs before acting on a case: who the customer is, where the goods went, how
// the request came in and what the customer said; and the case's actions grouped, the usual next
// step first and the ones that end the case apart.

i18n.addResourceBundle(
  "zh-CN",
  "translation",
  {
    "ctx.title": "买家与诉求",
    "ctx.name": "姓名",
    "ctx.phone": "手机号",
    "ctx.address": "收货地址",
    "ctx.channel": "来源",
    "ctx.description": "问题描述",
    "ctx.ending": "结束售后单",
    "channel.portal": "买家自助",
    "channel.phone": "电话",
    "channel.platform": "平台",
    "channel.email": "邮件",
    "channel.chat": "在线客服",
    "channel.api": "接口",
    "channel.import": "导入",
  },
  true,
  false,
);
i18n.addResourceBundle(
  "en",
  "translation",
  {
    "ctx.title": "Customer and request",
    "ctx.name": "Name",
    "ctx.phone": "Phone",
    "ctx.address": "Delivery address",
    "ctx.channel": "Channel",
    "ctx.description": "Description",
    "ctx.ending": "End the case",
    "channel.portal": "Self-service portal",
    "channel.phone": "Phone",
    "channel.platform": "Marketplace",
    "channel.email": "E-mail",
    "channel.chat": "Chat",
    "channel.api": "API",
    "channel.import": "Import",
  },
  true,
  false,
);

/** Customer name, phone, address, channel and description, at the top of the case. */
export function CaseContext({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const d = useCaseDetails([caseId]).get(caseId);
  const dash = (v?: string | null) => v || "—";
  return (
    <Card size="small" title={t("ctx.title")} data-testid="case-context">
      <Descriptions size="small" column={{ xs: 1, md: 2, xl: 4 }}>
        <Descriptions.Item label={t("ctx.name")}>{dash(d?.customer.name)}</Descriptions.Item>
        <Descriptions.Item label={t("ctx.phone")}>{dash(d?.customer.phone)}</Descriptions.Item>
        <Descriptions.Item label={t("ctx.address")}>{dash(d?.address)}</Descriptions.Item>
        <Descriptions.Item label={t("ctx.channel")}>
          {d ? t(`channel.${d.channel}`, { defaultValue: t("action.other") }) : "—"}
        </Descriptions.Item>
      </Descriptions>
      <Typography.Paragraph style={{ margin: 0 }} data-testid="case-description">
        <Typography.Text strong>{t("ctx.description")}：</Typography.Text>
        {dash(d?.description)}
      </Typography.Paragraph>
    </Card>
  );
}

/** The actions that move the case on, first in this order; then the rest; then, apart, those that end it. */
const PRIMARY = ["approve", "receive", "inspect", "refund", "resolve", "ship-return", "accept-offer", "provide-info"];
const ENDING = ["reject", "cancel", "close"];
export function GroupedActions({ actions, render }: { actions: string[]; render: (action: string) => ReactNode }) {
  const { t } = useTranslation();
  const rank = (a: string) => (PRIMARY.includes(a) ? PRIMARY.indexOf(a) : 100);
  const main = actions.filter((a) => !ENDING.includes(a)).sort((a, b) => rank(a) - rank(b));
  const ending = actions.filter((a) => ENDING.includes(a));
  return (
    <Space wrap data-testid="case-actions">
      <Space wrap data-group="main">
        {main.map(render)}
      </Space>
      {ending.length > 0 && (
        <>
          {main.length > 0 && <Divider type="vertical" />}
          <Space wrap data-group="ending" aria-label={t("ctx.ending")}>
            {ending.map(render)}
          </Space>
        </>
      )}
    </Space>
  );
}
