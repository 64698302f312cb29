import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Form, Input, Modal, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, money, when } from "../api";
import { ClaimActions } from "../claims";
import { applyFieldErrors, Loadable, reportError, useConfirm } from "../shared";
import type { Page, Supplier } from "../types";
import type { CreatedWebhook, Notification, Template, Templates, Webhook } from "../types/automation";
import type { Claim, Statement } from "../types/money";

/** Finance's supplier side: claims (索赔) to settle and statements (对账单) to draw up and close. */
export function ClaimsAndStatements() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const claims = useQuery({ queryKey: ["claims-all"], queryFn: () => api<Page<Claim>>("GET", "/api/v1/supplier-claims?limit=200") });
  const statements = useQuery({ queryKey: ["statements"], queryFn: () => api<Page<Statement>>("GET", "/api/v1/supplier-statements") });
  const suppliers = useQuery({ queryKey: ["suppliers"], queryFn: () => api<Page<Supplier>>("GET", "/api/v1/suppliers?limit=200") });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["claims-all"] });
    void qc.invalidateQueries({ queryKey: ["statements"] });
  };
  const confirm = useConfirm();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Card title={t("claims")} extra={<Button href="/api/v1/supplier-claims?format=csv">{t("exportCsv")}</Button>}>
        <Loadable q={claims} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: "#", dataIndex: "caseNo" },
                {
                  title: t("suppliers"),
                  dataIndex: "supplierId",
                  render: (id: string) => suppliers.data?.items.find((s) => s.id === id)?.name ?? id.slice(-6),
                },
                { title: t("amount"), dataIndex: "amount", render: (v: number) => money(v) },
                {
                  title: t("status"),
                  dataIndex: "status",
                  render: (v: string) => <Tag data-status={v}>{t(`claimStatus.${v}`, { defaultValue: v })}</Tag>,
                },
                { title: t("note"), dataIndex: "supplierNote" },
                { title: t("deadline"), dataIndex: "dueAt", render: (v: string | null) => when(v) },
                { title: "", dataIndex: "allowedActions", render: (_: string[], r) => <ClaimActions claim={r} onDone={refresh} /> },
              ]}
            />
          )}
        </Loadable>
      </Card>
      <Card title={t("statements")}>
        <Form
          form={form}
          layout="inline"
          style={{ marginBottom: 12 }}
          onFinish={async (v) => {
            try {
              await api("POST", "/api/v1/supplier-statements", v);
              refresh();
            } catch (e) {
              reportError(form, message, e);
            }
          }}
        >
          <Form.Item name="supplierId" rules={[{ required: true }]}>
            <Select
              placeholder={t("suppliers")}
              style={{ width: 180 }}
              options={(suppliers.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
            />
          </Form.Item>
          <Form.Item name="from" rules={[{ required: true, pattern: /^\d{4}-\d{2}-\d{2}$/ }]}>
            <Input placeholder="2026-11-01" style={{ width: 120 }} />
          </Form.Item>
          <Form.Item name="to" rules={[{ required: true, pattern: /^\d{4}-\d{2}-\d{2}$/ }]}>
            <Input placeholder="2026-11-30" style={{ width: 120 }} />
          </Form.Item>
          <Button htmlType="submit">{t("newStatement")}</Button>
        </Form>
        <Loadable q={statements} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                {
                  title: t("suppliers"),
                  dataIndex: "supplierId",
                  render: (id: string) => suppliers.data?.items.find((s) => s.id === id)?.name ?? id.slice(-6),
                },
                { title: t("period"), render: (_: unknown, s) => `${String(s.from).slice(0, 10)} – ${String(s.to).slice(0, 10)}` },
                { title: t("amount"), render: (_: unknown, s) => money(s.totals?.payable) },
                {
                  title: t("status"),
                  dataIndex: "status",
                  render: (v: string) => (
                    <Tag color={v === "closed" ? "green" : "gold"} data-status={v}>
                      {t(`stStatus.${v}`, { defaultValue: v })}
                    </Tag>
                  ),
                },
                {
                  title: "",
                  render: (_: unknown, s) => (
                    <Space>
                      <Button size="small" href={`/api/v1/supplier-statements/${s.id}/export.csv`}>
                        CSV
                      </Button>
                      {s.allowedActions.includes("close") && (
                        <Button
                          size="small"
                          onClick={() =>
                            void confirm({
                              title: t("audit.verb.close"),
                              content: t("statement.closeWhat", { amount: money(s.totals?.payable) }),
                              run: () => api("POST", `/api/v1/supplier-statements/${s.id}/actions/close`, {}),
                              done: t("case.done", { action: t("audit.verb.close") }),
                            }).then(refresh)
                          }
                        >
                          {t("audit.verb.close")}
                        </Button>
                      )}
                    </Space>
                  ),
                },
              ]}
            />
          )}
        </Loadable>
      </Card>
    </Space>
  );
}

/** Settings for messages and integrations: notification templates, webhooks and what was sent. */
export function Automation() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [editing, setEditing] = useState<Template | null>(null);
  const [tplForm] = Form.useForm();
  const [hookForm] = Form.useForm();
  const [secret, setSecret] = useState<string | null>(null);
  const templates = useQuery({ queryKey: ["templates"], queryFn: () => api<Templates>("GET", "/api/v1/notification-templates") });
  const hooks = useQuery({ queryKey: ["webhooks"], queryFn: () => api<Page<Webhook>>("GET", "/api/v1/webhooks") });
  const sent = useQuery({ queryKey: ["notifications"], queryFn: () => api<Page<Notification>>("GET", "/api/v1/notifications?limit=50") });
  // An event's name; a wildcard subscription (`case.*`) reads as 售后单 · 全部.
  const eventName = (e: string) =>
    e.endsWith(".*") ? `${t(`audit.entity.${e.slice(0, -2)}`, { defaultValue: e })} · *` : t(`notifEvent.${e}`, { defaultValue: e });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Card title={t("templates")}>
        <Loadable q={templates}>
          {(d) => (
            <Table
              rowKey={(r) => `${r.event}/${r.locale}/${r.channel}`}
              size="small"
              dataSource={d.items}
              pagination={{ pageSize: 8 }}
              columns={[
                { title: t("nt.event"), dataIndex: "event", render: (v: string) => eventName(v) },
                { title: t("nt.locale"), dataIndex: "locale", render: (v: string) => t(`locale.${v}`, { defaultValue: v }) },
                { title: t("nt.channel"), dataIndex: "channel", render: (v: string) => t(`channel.${v}`, { defaultValue: v }) },
                { title: t("nt.subject"), dataIndex: "subject" },
                {
                  title: "",
                  dataIndex: "customised",
                  render: (c: boolean, r) => (
                    <Button
                      size="small"
                      title={c ? t("nt.customised") : undefined}
                      onClick={() => {
                        setEditing(r);
                        tplForm.setFieldsValue(r);
                      }}
                      data-event={r.event}
                    >
                      {c ? "✎ *" : "✎"}
                    </Button>
                  ),
                },
              ]}
            />
          )}
        </Loadable>
        <Typography.Text type="secondary">{templates.data?.variables?.map((v: string) => `{{${v}}}`).join(" ")}</Typography.Text>
      </Card>
      <Modal
        open={Boolean(editing)}
        title={
          editing
            ? `${eventName(editing.event)} · ${t(`locale.${editing.locale}`, { defaultValue: editing.locale })} · ${t(`channel.${editing.channel}`, { defaultValue: editing.channel })}`
            : ""
        }
        onCancel={() => setEditing(null)}
        onOk={() => tplForm.submit()}
        destroyOnHidden
      >
        <Form
          form={tplForm}
          layout="vertical"
          onFinish={async (v) => {
            try {
              // The form shows only while a template is being edited.
              const tpl = editing as Template;
              await api("PUT", "/api/v1/notification-templates", {
                event: tpl.event,
                locale: tpl.locale,
                channel: tpl.channel,
                subject: v.subject ?? "",
                body: v.body,
                active: v.active ?? true,
              });
              setEditing(null);
              void qc.invalidateQueries({ queryKey: ["templates"] });
            } catch (e) {
              applyFieldErrors(tplForm, e);
            }
          }}
        >
          <Form.Item name="subject" label={t("nt.subject")}>
            <Input />
          </Form.Item>
          <Form.Item name="body" label={t("nt.body")} rules={[{ required: true }]}>
            <Input.TextArea rows={4} />
          </Form.Item>
          <Form.Item name="active" label={t("nt.active")} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
      <Card title={t("webhooks")}>
        <Form
          form={hookForm}
          layout="inline"
          style={{ marginBottom: 12 }}
          onFinish={async (v) => {
            try {
              const r = await api<CreatedWebhook>("POST", "/api/v1/webhooks", {
                url: v.url,
                events: String(v.events)
                  .split(/[\s,]+/)
                  .filter(Boolean),
              });
              setSecret(r.secret);
              hookForm.resetFields();
              void qc.invalidateQueries({ queryKey: ["webhooks"] });
            } catch (e) {
              reportError(hookForm, message, e);
            }
          }}
        >
          <Form.Item name="url" rules={[{ required: true }]}>
            <Input placeholder={t("nt.url")} aria-label={t("nt.url")} style={{ width: 280 }} />
          </Form.Item>
          <Form.Item name="events" rules={[{ required: true }]} initialValue="case.* refund.*">
            <Input style={{ width: 200 }} aria-label={t("nt.events")} />
          </Form.Item>
          <Button htmlType="submit">+</Button>
        </Form>
        {secret && (
          <Typography.Paragraph copyable={{ text: secret }}>
            {t("nt.secretOnce")}: {secret}
          </Typography.Paragraph>
        )}
        <Loadable q={hooks} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: t("nt.url"), dataIndex: "url" },
                { title: t("nt.events"), dataIndex: "events", render: (e: string[]) => e.map(eventName).join("、") },
                { title: "", dataIndex: "active", render: (a: boolean) => (a ? "✓" : "✗") },
              ]}
            />
          )}
        </Loadable>
      </Card>
      <Card title={t("notifications")}>
        <Loadable q={sent} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: t("nt.event"), dataIndex: "event", render: (v: string) => eventName(v) },
                { title: t("nt.channel"), dataIndex: "channel", render: (v: string) => t(`channel.${v}`, { defaultValue: v }) },
                { title: t("nt.to"), dataIndex: "recipient" },
                { title: t("nt.subject"), dataIndex: "subject" },
                {
                  title: t("status"),
                  dataIndex: "status",
                  render: (v: string, r) => (
                    <Tag color={v === "sent" ? "green" : v === "failed" ? "red" : "gold"} title={r.lastError ?? ""} data-status={v}>
                      {t(`ntStatus.${v}`, { defaultValue: v })}
                    </Tag>
                  ),
                },
                { title: "", dataIndex: "createdAt", render: (v: string | null) => when(v) },
              ]}
            />
          )}
        </Loadable>
      </Card>
    </Space>
  );
}
