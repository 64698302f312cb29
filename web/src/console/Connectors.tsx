import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, when } from "../api";
import i18n from "../i18n";
import type { ConnectorDetailView, ConnectorTestResult } from "../types/views";
import { fieldLabel, KindFields, OTHER_KIND_NAMES, useConnectorKinds } from "./ConnectorFields";

// The screen's own texts, kept beside it so the connector screen lands without touching the shared
// dictionaries; they can move into the JSON locales later.
const TEXTS = {
  "zh-CN": {
    "cn.group": "集成",
    "cn.menu": "店铺与平台",
    "cn.title": "店铺与平台连接",
    "cn.add": "添加连接",
    "cn.kind": "平台",
    "cn.name": "名称",
    "cn.shop": "导入到店铺",
    "cn.status": "状态",
    "cn.lastSync": "上次同步",
    "cn.lastError": "最近错误",
    "cn.nextAttempt": "下次重试",
    "cn.webhookUrl": "Webhook 地址",
    "cn.test": "测试连接",
    "cn.sync": "立即同步",
    "cn.pause": "暂停",
    "cn.resume": "恢复",
    "cn.delete": "删除",
    "cn.edit": "修改",
    "cn.log": "连接日志",
    "cn.records": "已导入",
    "cn.rec.order": "订单",
    "cn.rec.refund": "退款",
    "cn.rec.refund_message": "买家留言",
    "cn.rec.refund_pic": "买家凭证图片",
    "cn.rec.other": "其他记录",
    "cn.secretKeep": "留空则保持原值",
    "cn.status.active": "运行中",
    "cn.status.paused": "已暂停",
    "cn.status.error": "出错",
    "cn.viewOn": "在 {{kind}} 查看 {{no}}",
    "cn.viewRefundOn": "在 {{kind}} 查看退款 {{no}}",
    "cn.created": "已添加。请在 Shopify 后台把订单与退款的 Webhook 指向下面的地址。",
    "cn.endpoint": "API 地址（可选：沙箱或本地模拟器）",
    "cn.createdTaobao": "已添加。点「测试连接」核对授权，再点「立即同步」拉取交易与退款。",
    "cn.tb.appKey": "AppKey",
    "cn.tb.appSecret": "AppSecret",
    "cn.tb.sessionKey": "SessionKey（卖家授权）",
    "cn.tb.gateway": "TOP 网关地址（…/router/rest）",
    "cn.tb.signMethod": "签名方式",
    "cn.tb.platform": "店铺类型",
    "cn.tb.sellerAddressId": "退货地址编号（卖家地址库）",
    "cn.tb.backfillDays": "首次同步回溯天数（默认 30）",
    "cn.tb.tradeUrl": "卖家后台订单页（含 {tid}）",
    "cn.tb.refundUrl": "卖家后台退款页（含 {refundId}）",
  },
  en: {
    "cn.group": "Integrations",
    "cn.menu": "Shops & platforms",
    "cn.title": "Shop and platform connections",
    "cn.add": "Add a connection",
    "cn.kind": "Platform",
    "cn.name": "Name",
    "cn.shop": "Import into shop",
    "cn.status": "Status",
    "cn.lastSync": "Last sync",
    "cn.lastError": "Last error",
    "cn.nextAttempt": "Next try",
    "cn.webhookUrl": "Webhook URL",
    "cn.test": "Test",
    "cn.sync": "Sync now",
    "cn.pause": "Pause",
    "cn.resume": "Resume",
    "cn.delete": "Delete",
    "cn.edit": "Edit",
    "cn.log": "Connection log",
    "cn.records": "Imported",
    "cn.rec.order": "orders",
    "cn.rec.refund": "refunds",
    "cn.rec.refund_message": "buyer messages",
    "cn.rec.refund_pic": "buyer photos",
    "cn.rec.other": "other records",
    "cn.secretKeep": "leave empty to keep the current value",
    "cn.status.active": "running",
    "cn.status.paused": "paused",
    "cn.status.error": "error",
    "cn.viewOn": "View {{no}} on {{kind}}",
    "cn.viewRefundOn": "View refund {{no}} on {{kind}}",
    "cn.created": "Added. In the Shopify admin, point the order and refund webhooks at the address below.",
    "cn.endpoint": "API base URL (optional: a sandbox or a local emulator)",
    "cn.createdTaobao": "Added. Test the connection to check the authorisation, then sync to pull trades and refunds.",
    "cn.tb.appKey": "AppKey",
    "cn.tb.appSecret": "AppSecret",
    "cn.tb.sessionKey": "SessionKey (the seller's authorisation)",
    "cn.tb.gateway": "TOP gateway URL (…/router/rest)",
    "cn.tb.signMethod": "Sign method",
    "cn.tb.platform": "Shop type",
    "cn.tb.sellerAddressId": "Return address id (seller address book)",
    "cn.tb.backfillDays": "Days the first sync reads back (default 30)",
    "cn.tb.tradeUrl": "Back office trade page (with {tid})",
    "cn.tb.refundUrl": "Back office refund page (with {refundId})",
  },
};
for (const [lng, texts] of Object.entries(TEXTS)) i18n.addResourceBundle(lng, "translation", texts, true, false);

interface Connector {
  id: string;
  kind: string;
  name: string;
  shopId: string | null;
  status: "active" | "paused" | "error";
  webhookUrl: string;
  config: Record<string, string | null>;
  lastSyncAt: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  syncing: boolean;
  allowedActions: string[];
}

const STATUS_COLOR = { active: "green", paused: "default", error: "red" } as const;
const KIND_NAMES: Record<string, string> = { shopify: "Shopify", taobao: "淘宝 / 天猫 Taobao · Tmall" };

/** Taobao's settings (TOP): which are secret, required, or a choice. */
const TAOBAO_FIELDS: { name: string; secret?: boolean; required?: boolean; options?: string[] }[] = [
  { name: "appKey", required: true },
  { name: "appSecret", secret: true, required: true },
  { name: "sessionKey", secret: true, required: true },
  { name: "gateway", required: true },
  { name: "signMethod", options: ["hmac-sha256", "md5", "hmac"] },
  { name: "platform", options: ["taobao", "tmall"] },
  { name: "sellerAddressId" },
  { name: "backfillDays" },
  { name: "tradeUrl" },
  { name: "refundUrl" },
];

function ConnectorForm({ initial, onDone }: { initial?: Connector; onDone: (c: Connector) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<{ items: { id: string; name: string }[] }>("GET", "/api/v1/shops") });
  const [busy, setBusy] = useState(false);
  const secretHint = initial ? t("cn.secretKeep") : undefined;
  const [form] = Form.useForm();
  const kind = Form.useWatch("kind", form) ?? initial?.kind ?? "shopify";
  const kinds = useConnectorKinds();
  const other = ["shopify", "taobao"].includes(kind) ? undefined : kinds.data?.items.find((k) => k.kind === kind);
  const kindOptions = [
    ...Object.entries(KIND_NAMES).map(([value, label]) => ({ value, label })),
    ...(kinds.data?.items ?? [])
      .filter((k) => !KIND_NAMES[k.kind])
      .map((k) => ({ value: k.kind, label: OTHER_KIND_NAMES[k.kind] ? t(`cnf.kind.${k.kind}`) : k.kind })),
  ];
  return (
    <Form
      form={form}
      layout="vertical"
      initialValues={{
        kind: initial?.kind ?? "shopify",
        name: initial?.name,
        shopId: initial?.shopId,
        shopDomain: initial?.config.shopDomain,
        endpoint: initial?.config.endpoint,
        ...Object.fromEntries(TAOBAO_FIELDS.filter((f) => !f.secret).map((f) => [f.name, initial?.config[f.name] ?? undefined])),
        // Another kind's plain settings as saved (secrets come back masked and are left empty).
        ...(initial && !["shopify", "taobao"].includes(initial.kind)
          ? Object.fromEntries(Object.entries(initial.config).filter(([, v]) => v !== null && !String(v).includes("•")))
          : {}),
      }}
      onFinish={async (v) => {
        setBusy(true);
        try {
          const fields = other
            ? Object.fromEntries(other.fields.map((f) => [f.name, v[f.name]]))
            : v.kind === "taobao"
              ? Object.fromEntries(TAOBAO_FIELDS.map((f) => [f.name, v[f.name]]))
              : { shopDomain: v.shopDomain, accessToken: v.accessToken, webhookSecret: v.webhookSecret, endpoint: v.endpoint };
          const config = Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined && x !== null && x !== ""));
          const c = initial
            ? await api<Connector>("PATCH", `/api/v1/connectors/${initial.id}`, { name: v.name, shopId: v.shopId, config })
            : await api<Connector>("POST", "/api/v1/connectors", { kind: v.kind, shopId: v.shopId, name: v.name || undefined, config });
          onDone(c);
        } catch (e) {
          message.error((e as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Form.Item name="kind" label={t("cn.kind")}>
        <Select disabled={Boolean(initial)} options={kindOptions} />
      </Form.Item>
      <Form.Item name="shopId" label={t("cn.shop")} rules={other && !other.needsShop ? [] : [{ required: true }]}>
        <Select options={(shops.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))} />
      </Form.Item>
      <Form.Item name="name" label={t("cn.name")}>
        <Input maxLength={100} />
      </Form.Item>
      {other ? (
        <KindFields info={other} editing={Boolean(initial)} secretHint={secretHint} />
      ) : kind === "taobao" ? (
        TAOBAO_FIELDS.map((f) => (
          <Form.Item
            key={f.name}
            name={f.name}
            label={t(`cn.tb.${f.name}`)}
            extra={f.secret ? secretHint : undefined}
            rules={f.required && !(f.secret && initial) ? [{ required: true }] : []}
          >
            {f.options ? (
              <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
            ) : f.secret ? (
              <Input.Password autoComplete="new-password" placeholder={initial?.config[f.name] ?? ""} />
            ) : (
              <Input autoComplete="off" />
            )}
          </Form.Item>
        ))
      ) : (
        <>
          <Form.Item name="shopDomain" label={fieldLabel(t, "shopDomain")} rules={[{ required: true }]}>
            <Input placeholder="your-store" autoComplete="off" />
          </Form.Item>
          <Form.Item name="accessToken" label={fieldLabel(t, "accessToken")} extra={secretHint} rules={initial ? [] : [{ required: true }]}>
            <Input.Password autoComplete="new-password" placeholder={initial?.config.accessToken ?? ""} />
          </Form.Item>
          <Form.Item
            name="webhookSecret"
            label={fieldLabel(t, "webhookSecret")}
            extra={secretHint}
            rules={initial ? [] : [{ required: true }]}
          >
            <Input.Password autoComplete="new-password" placeholder={initial?.config.webhookSecret ?? ""} />
          </Form.Item>
          <Form.Item name="endpoint" label={t("cn.endpoint")}>
            <Input autoComplete="off" />
          </Form.Item>
        </>
      )}
      <Button type="primary" htmlType="submit" loading={busy} data-testid="connector-save">
        {initial ? t("cn.edit") : t("cn.add")}
      </Button>
    </Form>
  );
}

function ConnectorDetail({ id }: { id: string }) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ["connector", id],
    queryFn: () => api<ConnectorDetailView>("GET", `/api/v1/connectors/${id}`),
    refetchInterval: 5000,
  });
  if (!q.data) return null;
  const c = q.data;
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Typography.Text>
        {t("cn.webhookUrl")}: <Typography.Text copyable>{c.webhookUrl}</Typography.Text>
      </Typography.Text>
      <Typography.Text type="secondary">
        {t("cn.records")}:{" "}
        {Object.entries(c.records ?? {})
          .map(([k, n]) => `${t(`cn.rec.${k}`, { defaultValue: t("cn.rec.other") })} ${n}`)
          .join(" · ") || "—"}
      </Typography.Text>
      <Table
        size="small"
        rowKey="id"
        pagination={{ pageSize: 10 }}
        title={() => t("cn.log")}
        dataSource={c.log}
        columns={[
          { title: "", dataIndex: "at", width: 180, render: (v: string | null) => when(v) },
          {
            title: "",
            dataIndex: "level",
            width: 70,
            render: (l: string) => <Tag color={l === "error" ? "red" : l === "warn" ? "orange" : "blue"}>{l}</Tag>,
          },
          { title: "", dataIndex: "message" },
        ]}
      />
    </Space>
  );
}

export default function Connectors() {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["connectors"],
    queryFn: () => api<{ items: Connector[] }>("GET", "/api/v1/connectors"),
    refetchInterval: 5000,
  });
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<{ items: { id: string; name: string }[] }>("GET", "/api/v1/shops") });
  const [editing, setEditing] = useState<Connector | "new" | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["connectors"] });
  const act = async (c: Connector, action: string) => {
    try {
      // Only the test action's answer is read.
      const r = await api<ConnectorTestResult>("POST", `/api/v1/connectors/${c.id}/actions/${action}`);
      if (action === "test") (r.ok ? message.success : message.warning)(r.message, 6);
      refresh();
      void qc.invalidateQueries({ queryKey: ["connector", c.id] });
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  return (
    <Card
      title={t("cn.title")}
      extra={
        <Button type="primary" onClick={() => setEditing("new")} data-testid="connector-add">
          {t("cn.add")}
        </Button>
      }
    >
      {list.error ? <Alert type="error" title={(list.error as Error).message} /> : null}
      <Table
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        expandable={{ expandedRowRender: (c) => <ConnectorDetail id={c.id} /> }}
        columns={[
          { title: t("cn.name"), dataIndex: "name" },
          {
            title: t("cn.kind"),
            dataIndex: "kind",
            render: (k: string) => KIND_NAMES[k] ?? (OTHER_KIND_NAMES[k] ? t(`cnf.kind.${k}`) : k),
          },
          {
            title: t("cn.shop"),
            dataIndex: "shopId",
            render: (id: string | null) => shops.data?.items.find((s) => s.id === id)?.name ?? "—",
          },
          {
            title: t("cn.status"),
            dataIndex: "status",
            render: (s: Connector["status"], c) => (
              <Tag color={STATUS_COLOR[s]} data-status={s}>
                {t(`cn.status.${s}`)}
                {c.syncing ? " …" : ""}
              </Tag>
            ),
          },
          { title: t("cn.lastSync"), dataIndex: "lastSyncAt", render: (v: string | null) => when(v) },
          {
            title: t("cn.lastError"),
            dataIndex: "lastError",
            render: (e: string | null, c) =>
              e ? (
                <Typography.Text type="danger">
                  {e}
                  {c.nextAttemptAt ? ` (${t("cn.nextAttempt")} ${when(c.nextAttemptAt)})` : ""}
                </Typography.Text>
              ) : (
                "—"
              ),
          },
          {
            title: "",
            render: (_: unknown, c) => (
              <Space wrap>
                {c.allowedActions.map((a) => (
                  <Button key={a} size="small" onClick={() => act(c, a)} data-action={a}>
                    {t(`cn.${a}`)}
                  </Button>
                ))}
                <Button size="small" onClick={() => setEditing(c)}>
                  {t("cn.edit")}
                </Button>
                <Popconfirm
                  title={t("cn.delete")}
                  onConfirm={async () => {
                    await api("DELETE", `/api/v1/connectors/${c.id}`);
                    refresh();
                  }}
                >
                  <Button size="small" danger>
                    {t("cn.delete")}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === "new" ? t("cn.add") : t("cn.edit")}
        footer={null}
        destroyOnHidden
        onCancel={() => setEditing(null)}
      >
        {editing !== null && (
          <ConnectorForm
            initial={editing === "new" ? undefined : editing}
            onDone={(c) => {
              const created = editing === "new";
              setEditing(null);
              refresh();
              if (created && c.kind === "taobao") modal.info({ title: t("cn.createdTaobao") });
              else if (created) modal.info({ title: t("cn.created"), content: <Typography.Text copyable>{c.webhookUrl}</Typography.Text> });
            }}
          />
        )}
      </Modal>
    </Card>
  );
}

/** Links from an order (or a case: its platform refund, then its order) to its records on the platforms. */
export function PlatformLinks(p: { orderId: string } | { caseId: string }) {
  const { t } = useTranslation();
  const path = "caseId" in p ? `/api/v1/cases/${p.caseId}/platform-links` : `/api/v1/orders/${p.orderId}/platform-links`;
  const q = useQuery({
    queryKey: ["platform-links", path],
    queryFn: () =>
      api<{ items: { connectorId: string; kind: string; recordType?: string; externalNo: string | null; url: string | null }[] }>(
        "GET",
        path,
      ),
  });
  const links = (q.data?.items ?? []).filter((l) => l.url);
  if (!links.length) return null;
  return (
    <Space>
      {links.map((l) => (
        <Typography.Link
          key={`${l.connectorId}:${l.recordType ?? "order"}`}
          href={l.url ?? undefined}
          target="_blank"
          rel="noreferrer noopener"
          data-testid="platform-link"
        >
          {t(l.recordType === "refund" ? "cn.viewRefundOn" : "cn.viewOn", { kind: KIND_NAMES[l.kind] ?? l.kind, no: l.externalNo ?? "" })}
        </Typography.Link>
      ))}
    </Space>
  );
}
