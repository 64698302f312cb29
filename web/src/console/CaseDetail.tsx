import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Form,
  Image,
  Input,
  InputNumber,
  List,
  Modal,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Timeline,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router-dom";
import { DISPOSITIONS, INSPECTION_GRADES, OFFER_KINDS, REFUND_METHODS, RESPONSIBILITIES } from "../../../src/domain/vocabulary";
import { api, money, when } from "../api";
import { Loadable, reportError, StatusTag } from "../shared";
import ConversationPanel from "./Conversation";

type Field = { name: string; kind: "text" | "number" | "select" | "bool"; options?: readonly string[]; required?: boolean };
/** The body each case action takes, as form fields. */
const ACTION_FORMS: Record<string, Field[]> = {
  approve: [{ name: "note", kind: "text" }],
  reject: [{ name: "note", kind: "text", required: true }],
  "request-info": [{ name: "note", kind: "text", required: true }],
  "provide-info": [{ name: "note", kind: "text", required: true }],
  "set-responsibility": [
    { name: "responsibility", kind: "select", options: RESPONSIBILITIES, required: true },
    { name: "note", kind: "text", required: true },
  ],
  "ship-return": [
    { name: "carrier", kind: "text", required: true },
    { name: "trackingNo", kind: "text", required: true },
  ],
  receive: [{ name: "note", kind: "text" }],
  inspect: [
    { name: "grade", kind: "select", options: INSPECTION_GRADES, required: true },
    { name: "matchesOrder", kind: "bool" },
    { name: "complete", kind: "bool" },
    { name: "disposition", kind: "select", options: DISPOSITIONS, required: true },
    { name: "note", kind: "text" },
  ],
  refund: [{ name: "method", kind: "select", options: REFUND_METHODS }],
  "offer-compensation": [
    { name: "kind", kind: "select", options: OFFER_KINDS, required: true },
    { name: "amount", kind: "number" },
    { name: "note", kind: "text" },
  ],
  "accept-offer": [],
  resolve: [{ name: "note", kind: "text" }],
  close: [{ name: "note", kind: "text" }],
  cancel: [{ name: "note", kind: "text" }],
  escalate: [{ name: "note", kind: "text" }],
  assign: [],
};

export function ActionButton({ caseId, action, onDone }: { caseId: string; action: string; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const label = t(`action.${action}`, { defaultValue: action });
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const fields = ACTION_FORMS[action] ?? [];
  const run = async (values: Record<string, unknown>) => {
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== "") body[k] = v;
    if (action === "assign") body.assigneeId = null;
    if (action === "offer-compensation" && typeof body.amount === "number") body.amount = Math.round(body.amount * 100);
    try {
      await api("POST", `/api/v1/cases/${caseId}/actions/${action}`, body);
      setOpen(false);
      form.resetFields();
      onDone();
    } catch (e) {
      reportError(form, message, e);
    }
  };
  const needsForm = fields.some((f) => f.required || action === "inspect");
  return (
    <>
      <Button
        data-action={action}
        type={action === "approve" || action === "refund" ? "primary" : "default"}
        danger={action === "reject"}
        onClick={() => (needsForm ? setOpen(true) : run({}))}
      >
        {label}
      </Button>
      <Modal
        open={open}
        title={label}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        okButtonProps={{ "data-testid": "action-ok" } as Record<string, string>}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={run} initialValues={{ matchesOrder: true, complete: true }}>
          {fields.map((f) => (
            <Form.Item
              key={f.name}
              name={f.name}
              label={f.name}
              rules={f.required ? [{ required: true }] : []}
              valuePropName={f.kind === "bool" ? "checked" : "value"}
            >
              {f.kind === "select" ? (
                <Select options={f.options?.map((o) => ({ value: o, label: o }))} data-field={f.name} />
              ) : f.kind === "number" ? (
                <InputNumber min={0} step={0.01} />
              ) : f.kind === "bool" ? (
                <Switch />
              ) : (
                <Input data-field={f.name} />
              )}
            </Form.Item>
          ))}
        </Form>
      </Modal>
    </>
  );
}

export default function CaseDetail() {
  const { id } = useParams();
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["case", id], queryFn: () => api<any>("GET", `/api/v1/cases/${id}`) });
  const reload = () => {
    void qc.invalidateQueries({ queryKey: ["case", id] });
    void qc.invalidateQueries({ queryKey: ["cases"] });
  };
  return (
    <Loadable q={q}>
      {(c) => (
        <Space direction="vertical" style={{ width: "100%" }} size="middle">
          <Space wrap>
            <Button onClick={() => nav("/cases")}>{t("back")}</Button>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {c.caseNo}
            </Typography.Title>
            <StatusTag status={c.status} />
            <Tag>{t(`type.${c.type}`)}</Tag>
            <Tag>{t(`reason.${c.reason}`)}</Tag>
            {c.riskFlag && <Tag color="red">risk</Tag>}
          </Space>
          <Card size="small" title={t("actions")}>
            <Space wrap data-testid="case-actions">
              {c.allowedActions.map((a: string) => (
                <ActionButton key={a} caseId={c.id} action={a} onDone={reload} />
              ))}
            </Space>
          </Card>
          <Row gutter={16}>
            <Col xs={24} lg={14}>
              <Card size="small" title={t("lines")}>
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t("orderNo")}>
                    <a onClick={() => nav(`/orders/${c.orderId}`)}>{c.platformOrderNo}</a>
                  </Descriptions.Item>
                  {c.lines.map((l: any) => (
                    <Descriptions.Item key={l.orderLineId} label={l.skuCode}>
                      {l.title} × {l.quantity}
                    </Descriptions.Item>
                  ))}
                  <Descriptions.Item label={t("responsibility")}>
                    {t(`party.${c.responsibility.party}`, { defaultValue: c.responsibility.party })} — {c.responsibility.note}
                  </Descriptions.Item>
                  <Descriptions.Item label={t("deadline")}>
                    {c.deadlines.current
                      ? `${t(`deadlineKind.${c.deadlines.current.kind}`, { defaultValue: c.deadlines.current.kind })} ${when(c.deadlines.current.at)}`
                      : "—"}
                  </Descriptions.Item>
                  {c.returnShipment && (
                    <Descriptions.Item
                      label={t("returnTracking")}
                    >{`${c.returnShipment.carrier} ${c.returnShipment.trackingNo}`}</Descriptions.Item>
                  )}
                </Descriptions>
              </Card>
              <Card size="small" title={t("decision")} style={{ marginTop: 16 }}>
                <List size="small" dataSource={c.decision?.reasons ?? []} renderItem={(r: any) => <List.Item>{r.message}</List.Item>} />
              </Card>
              {c.refundQuote && (
                <Card size="small" title={t("refundBreakdown")} style={{ marginTop: 16 }} data-testid="refund-quote">
                  <Descriptions size="small" column={2}>
                    <Descriptions.Item label={t("quote.goods")}>{money(c.refundQuote.goods)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.shipping")}>{money(c.refundQuote.shipping)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.returnFreight")}>{money(c.refundQuote.returnFreight)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.deductions")}>
                      {money(
                        c.refundQuote.deductions.reduce((s: number, d: any) => s + d.amount, 0) +
                          c.refundQuote.giftDeduction +
                          c.refundQuote.thresholdResettlement,
                      )}
                    </Descriptions.Item>
                    <Descriptions.Item label={t("quote.total")}>
                      <b>{money(c.refundQuote.total)}</b>
                    </Descriptions.Item>
                  </Descriptions>
                  <List size="small" dataSource={c.refundQuote.reasons} renderItem={(r: any) => <List.Item>{r.message}</List.Item>} />
                </Card>
              )}
              {c.economics && (
                <Card size="small" title={t("economics")} style={{ marginTop: 16 }}>
                  <Table
                    size="small"
                    pagination={false}
                    rowKey="type"
                    dataSource={c.economics.options}
                    columns={[
                      {
                        title: t("type"),
                        dataIndex: "type",
                        render: (v: string) =>
                          v === c.economics.recommended ? (
                            <Tag color="green">{`${t(`option.${v}`, { defaultValue: v })} · ${t("recommended")}`}</Tag>
                          ) : (
                            t(`option.${v}`, { defaultValue: v })
                          ),
                      },
                      { title: t("amount"), dataIndex: "netCost", render: (v: number) => money(v) },
                      { title: "", dataIndex: "allowed", render: (v: boolean) => (v ? "" : "—") },
                    ]}
                  />
                  {c.supplierTerms?.warnings?.map((w: any) => (
                    <Typography.Paragraph key={w.code} type="warning" style={{ marginTop: 8 }}>
                      {w.message}
                    </Typography.Paragraph>
                  ))}
                </Card>
              )}
            </Col>
            <Col xs={24} lg={10}>
              <div style={{ marginBottom: 16 }}>
                <ConversationPanel caseId={c.id} hasSupplier={Boolean(c.supplierId)} />
              </div>
              <Card size="small" title={t("timeline")}>
                <Timeline
                  items={c.timeline.map((e: any) => ({
                    children: (
                      <span>
                        <b>{t(`action.${e.action}`, { defaultValue: e.action })}</b> {e.to && <StatusTag status={e.to} />}{" "}
                        <Typography.Text type="secondary">{when(e.at)}</Typography.Text>
                        {e.note && <div>{e.note}</div>}
                      </span>
                    ),
                  }))}
                />
              </Card>
              <Card size="small" title={t("evidence")} style={{ marginTop: 16 }}>
                <Space wrap>
                  {c.evidence.map((e: any) =>
                    e.kind === "image" ? (
                      <Image key={e.id} width={96} src={e.url} />
                    ) : (
                      <video key={e.id} width={160} controls src={e.url}>
                        <track kind="captions" />
                      </video>
                    ),
                  )}
                </Space>
              </Card>
            </Col>
          </Row>
        </Space>
      )}
    </Loadable>
  );
}
