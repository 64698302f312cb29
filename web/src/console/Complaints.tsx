// Complaints (投诉) with severity, owner, deadline and resolution; and the blocklist of customers
// whose requests are flagged for review.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Form, Input, Modal, Popconfirm, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { BLOCKLIST_KINDS, COMPLAINT_STATUSES, SEVERITIES, type Severity } from "../../../src/domain/vocabulary";
import { ApiError, api, when } from "../api";
import { Loadable, reportError, useMe } from "../shared";
import type { BlocklistEntry, Complaint, Page } from "../types";

const SEVERITY_COLORS: Record<Severity, string> = { low: "default", medium: "gold", high: "orange", critical: "red" };

export default function Complaints() {
  const { t } = useTranslation();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t("cp.title")}
      </Typography.Title>
      <Tabs
        items={[
          { key: "complaints", label: t("cp.title"), children: <ComplaintList /> },
          { key: "blocklist", label: t("cp.blocklist"), children: <Blocklist /> },
        ]}
      />
    </Space>
  );
}

/** Finds an order by its platform number or a case by its number, for a new complaint. */
async function resolveSubject(kind: "order" | "case", no: string): Promise<string> {
  const r = await api<Page<{ id: string }>>("GET", `/api/v1/${kind === "order" ? "orders" : "cases"}?q=${encodeURIComponent(no)}&limit=1`);
  const hit = r.items[0];
  if (!hit) throw new ApiError(404, "not_found", `${no}`, [{ field: "number", message: "not found" }]);
  return hit.id;
}

function ComplaintList() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const me = useMe();
  const [sp, setSp] = useSearchParams();
  const status = sp.get("status") ?? undefined;
  const [form] = Form.useForm();
  const [resolving, setResolving] = useState<string | null>(null);
  const [resolution, setResolution] = useState("");
  const q = useQuery({
    queryKey: ["complaints", status],
    queryFn: () => api<Page<Complaint>>("GET", `/api/v1/complaints?limit=200${status ? `&status=${status}` : ""}`),
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["complaints"] });
  const act = async (id: string, action: string, body: unknown) => {
    try {
      await api("POST", `/api/v1/complaints/${id}/actions/${action}`, body);
      message.success(t("saved"));
      refresh();
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  const now = Date.now();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Card size="small" title={t("cp.new")}>
        <Form
          form={form}
          layout="inline"
          initialValues={{ kind: "order", severity: "medium" }}
          style={{ rowGap: 8 }}
          onFinish={async (v) => {
            try {
              const id = await resolveSubject(v.kind, v.number.trim());
              await api("POST", "/api/v1/complaints", {
                ...(v.kind === "order" ? { orderId: id } : { caseId: id }),
                severity: v.severity,
                subject: v.subject,
                description: v.description ?? "",
              });
              message.success(t("saved"));
              form.resetFields();
              refresh();
            } catch (e) {
              reportError(form, message, e);
            }
          }}
        >
          <Form.Item name="kind">
            <Select
              style={{ width: 110 }}
              options={[
                { value: "order", label: t("cp.byOrder") },
                { value: "case", label: t("cp.byCase") },
              ]}
            />
          </Form.Item>
          <Form.Item name="number" rules={[{ required: true }]}>
            <Input placeholder={t("cp.number")} aria-label={t("cp.number")} style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="severity">
            <Select style={{ width: 120 }} options={SEVERITIES.map((s) => ({ value: s, label: t(`cp.sev.${s}`) }))} />
          </Form.Item>
          <Form.Item name="subject" rules={[{ required: true }]}>
            <Input placeholder={t("cp.subject")} aria-label={t("cp.subject")} style={{ width: 260 }} />
          </Form.Item>
          <Form.Item name="description">
            <Input placeholder={t("describe")} style={{ width: 260 }} />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            {t("submit")}
          </Button>
        </Form>
      </Card>
      <Space>
        <Select
          allowClear
          placeholder={t("status")}
          style={{ width: 160 }}
          value={status}
          onChange={(v) => setSp(v ? { status: v } : {})}
          options={COMPLAINT_STATUSES.map((s) => ({ value: s, label: t(`cp.status.${s}`) }))}
        />
        <Button href={`/api/v1/complaints?format=csv${status ? `&status=${status}` : ""}`}>{t("exportCsv")}</Button>
      </Space>
      <Loadable q={q} empty={(d) => d.items.length === 0}>
        {(d) => (
          <Table
            size="small"
            rowKey="id"
            dataSource={d.items}
            pagination={{ pageSize: 50 }}
            data-testid="complaints-table"
            columns={[
              { title: t("cp.subject"), dataIndex: "subject" },
              {
                title: t("cp.severity"),
                dataIndex: "severity",
                render: (v: Severity) => <Tag color={SEVERITY_COLORS[v]}>{t(`cp.sev.${v}`)}</Tag>,
              },
              { title: t("status"), dataIndex: "status", render: (v: string) => <Tag data-status={v}>{t(`cp.status.${v}`)}</Tag> },
              {
                title: t("deadline"),
                dataIndex: "dueAt",
                render: (v: string, c: any) => (
                  <Typography.Text type={["open", "assigned"].includes(c.status) && Date.parse(v) < now ? "danger" : undefined}>
                    {when(v)}
                  </Typography.Text>
                ),
              },
              {
                title: t("cp.about"),
                render: (_: unknown, c: any) =>
                  c.caseId ? <Link to={`/cases/${c.caseId}`}>{t("cases")}</Link> : <Link to={`/orders/${c.orderId}`}>{t("orders")}</Link>,
              },
              { title: t("cp.resolution"), dataIndex: "resolution", render: (v: string | null) => v ?? "—" },
              {
                title: t("actions"),
                render: (_: unknown, c: any) => (
                  <Space>
                    {c.allowedActions.includes("assign") && c.ownerId !== me.data?.id && (
                      <Button size="small" onClick={() => act(c.id, "assign", { ownerId: me.data?.id })}>
                        {t("cp.takeIt")}
                      </Button>
                    )}
                    {c.allowedActions.includes("resolve") && (
                      <Button size="small" type="primary" onClick={() => setResolving(c.id)}>
                        {t("cp.resolve")}
                      </Button>
                    )}
                    {c.allowedActions.includes("close") && (
                      <Popconfirm title={t("cp.close")} onConfirm={() => act(c.id, "close", {})}>
                        <Button size="small">{t("cp.close")}</Button>
                      </Popconfirm>
                    )}
                  </Space>
                ),
              },
            ]}
          />
        )}
      </Loadable>
      <Modal
        open={Boolean(resolving)}
        title={t("cp.resolve")}
        okButtonProps={{ disabled: !resolution.trim() }}
        onCancel={() => setResolving(null)}
        onOk={async () => {
          if (resolving) await act(resolving, "resolve", { resolution: resolution.trim() });
          setResolving(null);
          setResolution("");
        }}
      >
        <Input.TextArea
          aria-label={t("cp.resolution")}
          value={resolution}
          onChange={(e) => setResolution(e.target.value)}
          placeholder={t("cp.resolutionHint")}
          autoSize={{ minRows: 3 }}
        />
      </Modal>
    </Space>
  );
}

function Blocklist() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const q = useQuery({ queryKey: ["blocklist"], queryFn: () => api<Page<BlocklistEntry>>("GET", "/api/v1/blocklist") });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["blocklist"] });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Typography.Text type="secondary">{t("cp.blocklistNote")}</Typography.Text>
      <Form
        form={form}
        layout="inline"
        initialValues={{ kind: "phone" }}
        onFinish={async (v) => {
          try {
            await api("POST", "/api/v1/blocklist", v);
            message.success(t("saved"));
            form.resetFields();
            refresh();
          } catch (e) {
            reportError(form, message, e);
          }
        }}
      >
        <Form.Item name="kind">
          <Select style={{ width: 120 }} options={BLOCKLIST_KINDS.map((k) => ({ value: k, label: t(`cp.kind.${k}`) }))} />
        </Form.Item>
        <Form.Item name="value" rules={[{ required: true }]}>
          <Input placeholder={t("cp.value")} aria-label={t("cp.value")} style={{ width: 220 }} />
        </Form.Item>
        <Form.Item name="reason">
          <Input placeholder={t("reason")} style={{ width: 260 }} />
        </Form.Item>
        <Button htmlType="submit">{t("cp.block")}</Button>
      </Form>
      <Loadable q={q} empty={(d) => d.items.length === 0}>
        {(d) => (
          <Table
            size="small"
            rowKey="id"
            dataSource={d.items}
            pagination={{ pageSize: 50 }}
            columns={[
              { title: t("type"), dataIndex: "kind", render: (v: string) => t(`cp.kind.${v}`) },
              { title: t("cp.value"), dataIndex: "value" },
              { title: t("reason"), dataIndex: "reason", render: (v: string | null) => v ?? "—" },
              { title: t("createdAt"), dataIndex: "createdAt", render: (v: string | null) => when(v) },
              {
                title: "",
                render: (_: unknown, r: any) => (
                  <Popconfirm
                    title={t("cp.unblock")}
                    onConfirm={async () => {
                      await api("DELETE", `/api/v1/blocklist/${r.id}`);
                      refresh();
                    }}
                  >
                    <Button size="small" danger>
                      {t("cp.unblock")}
                    </Button>
                  </Popconfirm>
                ),
              },
            ]}
          />
        )}
      </Loadable>
    </Space>
  );
}
