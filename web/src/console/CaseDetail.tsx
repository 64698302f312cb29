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
import { CarrierInput, ReturnPickup } from "../carriers";
import { carrierName, payMethodName, timelineName } from "../names";
import { Loadable, reportError, StatusTag } from "../shared";
import type { CaseView, RefundQuote } from "../types/views";
import { CaseSupplierOrders } from "./CarrierActions";
import { CaseContext, GroupedActions } from "./CaseContext";
import { PlatformLinks } from "./Connectors";
import ConversationPanel from "./Conversation";
import { CaseRefunds } from "./GatewayQueue";
import { QuickReplyPicker, type QuickReplyPurpose } from "./QuickReplyPicker";
import { CaseRecovery } from "./SupplierChannels";

type Field = {
  name: string;
  kind: "text" | "longtext" | "number" | "select" | "bool" | "carrier";
  options?: readonly string[];
  /** The dictionary prefix that names the options (`grade` → t("grade.resellable")). */
  names?: string;
  required?: boolean;
};
/** The body each case action takes, as form fields. */
const ACTION_FORMS: Record<string, Field[]> = {
  approve: [{ name: "note", kind: "text" }],
  reject: [{ name: "note", kind: "longtext", required: true }],
  "request-info": [{ name: "note", kind: "longtext", required: true }],
  "provide-info": [{ name: "note", kind: "text", required: true }],
  "set-responsibility": [
    { name: "responsibility", kind: "select", options: RESPONSIBILITIES, names: "party", required: true },
    { name: "note", kind: "text", required: true },
  ],
  "ship-return": [
    { name: "carrier", kind: "carrier", required: true },
    { name: "trackingNo", kind: "text", required: true },
  ],
  receive: [{ name: "note", kind: "text" }],
  inspect: [
    { name: "grade", kind: "select", options: INSPECTION_GRADES, names: "grade", required: true },
    { name: "matchesOrder", kind: "bool" },
    { name: "complete", kind: "bool" },
    { name: "disposition", kind: "select", options: DISPOSITIONS, names: "disposition", required: true },
    { name: "note", kind: "text" },
  ],
  refund: [{ name: "method", kind: "select", options: REFUND_METHODS, names: "refundMethod" }],
  "offer-compensation": [
    { name: "kind", kind: "select", options: OFFER_KINDS, names: "offerKind", required: true },
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
/** Actions whose note may start from the tenant's quick replies of that purpose, rendered for the case. */
const NOTE_REPLIES: Record<string, QuickReplyPurpose> = { reject: "reject", "request-info": "request_info" };
/** Actions that end a case or move money: a dialog says what will happen before they run. */
const CONFIRMED = new Set(["refund", "close", "cancel", "reject"]);

/** The refund the case would get now, by the chosen method: amount and the routes it goes back by. */
const useRefundQuote = (caseId: string, method: string | undefined, enabled = true) =>
  useQuery({
    queryKey: ["refund-quote", caseId, method ?? ""],
    queryFn: () => api<RefundQuote>("GET", `/api/v1/cases/${caseId}/refund-quote${method ? `?method=${method}` : ""}`),
    enabled,
  });
function RefundPreview({ caseId, method }: { caseId: string; method?: string }) {
  const { t } = useTranslation();
  const q = useRefundQuote(caseId, method);
  return (
    <Loadable q={q}>
      {(quote) => (
        <Descriptions size="small" column={1} bordered data-testid="refund-preview" style={{ marginBottom: 12 }}>
          <Descriptions.Item label={t("refund.amount")}>
            <b data-testid="refund-amount">{money(quote.total)}</b>
            {quote.capped && <div>{t("refund.capped")}</div>}
          </Descriptions.Item>
          <Descriptions.Item label={t("refund.route")}>
            {(quote.byMethod ?? []).map((m) => (
              <div key={m.method}>
                {payMethodName(t, m.method)} {money(m.amount)}
              </div>
            ))}
          </Descriptions.Item>
          <Descriptions.Item label={t("notifications")}>{t("refund.told")}</Descriptions.Item>
        </Descriptions>
      )}
    </Loadable>
  );
}

export function ActionButton({ caseId, action, onDone }: { caseId: string; action: string; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const label = t(`action.${action}`, { defaultValue: t("action.other") });
  // The dialog and its form exist only while the dialog is in use (from opening until its closing
  // animation ends): each opening starts from a new form, never one left over from the last.
  const [dialog, setDialog] = useState<"closed" | "open" | "closing">("closed");
  const fields = ACTION_FORMS[action] ?? [];
  const needsForm = CONFIRMED.has(action) || fields.some((f) => f.required || action === "inspect");
  const runNow = async () => {
    try {
      await api("POST", `/api/v1/cases/${caseId}/actions/${action}`, action === "assign" ? { assigneeId: null } : {});
      message.success(t("case.done", { action: label }));
      onDone();
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  return (
    <>
      <Button
        data-action={action}
        type={action === "approve" || action === "refund" ? "primary" : "default"}
        danger={action === "reject" || action === "cancel" || action === "close"}
        onClick={() => (needsForm ? setDialog("open") : void runNow())}
      >
        {label}
      </Button>
      {dialog !== "closed" && (
        <ActionDialog
          caseId={caseId}
          action={action}
          label={label}
          open={dialog === "open"}
          onClose={() => setDialog("closing")}
          afterClose={() => setDialog("closed")}
          onDone={onDone}
        />
      )}
    </>
  );
}

function ActionDialog({
  caseId,
  action,
  label,
  open,
  onClose,
  afterClose,
  onDone,
}: {
  caseId: string;
  action: string;
  label: string;
  open: boolean;
  onClose: () => void;
  afterClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const method = Form.useWatch("method", form);
  const fields = ACTION_FORMS[action] ?? [];
  // The refund's OK waits for the amount it confirms: until then the dialog is still growing under the pointer.
  const preview = useRefundQuote(caseId, method, action === "refund");
  const [busy, setBusy] = useState(false);
  const run = async (values: Record<string, unknown>) => {
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== "") body[k] = v;
    if (action === "assign") body.assigneeId = null;
    if (action === "offer-compensation" && typeof body.amount === "number") body.amount = Math.round(body.amount * 100);
    try {
      const quote = action === "refund" ? qc.getQueryData<RefundQuote>(["refund-quote", caseId, (body.method as string) ?? ""]) : null;
      await api("POST", `/api/v1/cases/${caseId}/actions/${action}`, body);
      onClose();
      message.success(quote ? t("refund.done", { amount: money(quote.total) }) : t("case.done", { action: label }));
      void qc.invalidateQueries({ queryKey: ["refund-quote", caseId] });
      onDone();
    } catch (e) {
      reportError(form, message, e);
    }
  };
  // OK validates and sends itself rather than through the Form's onFinish, and shows it is
  // sending: a dialog that could be dismissed or re-pressed while its request was on its way
  // left refunds that were confirmed on screen but never asked of the API.
  const confirm = async () => {
    const values = await form.validateFields().catch(() => null);
    if (!values || busy) return;
    setBusy(true);
    await run(values).finally(() => setBusy(false));
  };
  return (
    <Modal
      open={open}
      title={action === "refund" ? t("refund.confirmTitle") : label}
      onCancel={() => !busy && onClose()}
      afterClose={afterClose}
      onOk={confirm}
      confirmLoading={busy}
      mask={{ closable: !CONFIRMED.has(action) }}
      okText={CONFIRMED.has(action) ? t("confirm.ok") : undefined}
      okButtonProps={{
        danger: CONFIRMED.has(action) && action !== "refund",
        disabled: action === "refund" && !preview.data,
        ...({ "data-testid": "action-ok" } as object),
      }}
    >
      {action === "refund" && <RefundPreview caseId={caseId} method={method} />}
      {CONFIRMED.has(action) && action !== "refund" && <Typography.Paragraph>{t(`case.${action}What`)}</Typography.Paragraph>}
      <Form form={form} layout="vertical" onFinish={() => void confirm()} initialValues={{ matchesOrder: true, complete: true }}>
        {NOTE_REPLIES[action] && (
          <Form.Item label={t("cv.quickReply")}>
            <QuickReplyPicker
              purpose={NOTE_REPLIES[action]}
              target={{ caseId }}
              testId="note-quick-reply"
              onPick={(_id, text) => text !== undefined && form.setFieldsValue({ note: text })}
            />
          </Form.Item>
        )}
        {fields.map((f) => (
          <Form.Item
            key={f.name}
            name={f.name}
            label={t(`field.${f.name}`)}
            rules={f.required ? [{ required: true }] : []}
            valuePropName={f.kind === "bool" ? "checked" : "value"}
          >
            {f.kind === "select" ? (
              <Select options={f.options?.map((o) => ({ value: o, label: f.names ? t(`${f.names}.${o}`) : o }))} data-field={f.name} />
            ) : f.kind === "carrier" ? (
              <CarrierInput data-testid={`field-${f.name}`} />
            ) : f.kind === "number" ? (
              <InputNumber min={0} step={0.01} />
            ) : f.kind === "bool" ? (
              <Switch />
            ) : f.kind === "longtext" ? (
              <Input.TextArea rows={3} maxLength={2000} data-field={f.name} />
            ) : (
              <Input data-field={f.name} />
            )}
          </Form.Item>
        ))}
      </Form>
    </Modal>
  );
}

export default function CaseDetail() {
  const { id } = useParams();
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ["case", id],
    queryFn: () => api<CaseView>("GET", `/api/v1/cases/${id}`),
    // A refund settles when the gateway answers: the page follows it instead of staying on 退款中.
    refetchInterval: (query) => (query.state.data?.status === "refund_pending" ? 2000 : false),
  });
  const reload = () => {
    void qc.invalidateQueries({ queryKey: ["case", id] });
    void qc.invalidateQueries({ queryKey: ["cases"] });
  };
  return (
    <Loadable q={q}>
      {(c) => (
        <Space orientation="vertical" style={{ width: "100%" }} size="middle">
          <Space wrap>
            <Button onClick={() => nav("/cases")}>{t("back")}</Button>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {c.caseNo}
            </Typography.Title>
            <StatusTag status={c.status} />
            <Tag>{t(`type.${c.type}`)}</Tag>
            <Tag>{t(`reason.${c.reason}`)}</Tag>
            {c.riskFlag && <Tag color="red">{t("risk")}</Tag>}
          </Space>
          <CaseContext caseId={c.id} />
          <Card size="small" title={t("actions")}>
            <GroupedActions actions={c.allowedActions} render={(a) => <ActionButton key={a} caseId={c.id} action={a} onDone={reload} />} />
          </Card>
          <Row gutter={16}>
            <Col xs={24} lg={14}>
              <Card size="small" title={t("lines")}>
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t("orderNo")}>
                    <Space wrap>
                      <a onClick={() => nav(`/orders/${c.orderId}`)}>{c.platformOrderNo}</a>
                      <PlatformLinks caseId={c.id} />
                    </Space>
                  </Descriptions.Item>
                  {c.lines.map((l) => (
                    <Descriptions.Item key={l.orderLineId} label={l.skuCode}>
                      {l.title} × {l.quantity}
                    </Descriptions.Item>
                  ))}
                  <Descriptions.Item label={t("responsibility")}>
                    {t(`party.${c.responsibility.party}`, { defaultValue: c.responsibility.party })} — {c.responsibility.note}
                  </Descriptions.Item>
                  <Descriptions.Item label={t("createdAt")}>
                    <span data-testid="case-created">{when(c.createdAt, c.shopTimezone)}</span>
                  </Descriptions.Item>
                  <Descriptions.Item label={t("deadline")}>
                    {c.deadlines.current
                      ? `${t(`deadlineKind.${c.deadlines.current.kind}`, { defaultValue: t("deadline") })} ${when(c.deadlines.current.at, c.shopTimezone)}`
                      : "—"}
                  </Descriptions.Item>
                  {c.returnShipment && (
                    <Descriptions.Item
                      label={t("returnTracking")}
                    >{`${carrierName(t, c.returnShipment.carrier)} ${c.returnShipment.trackingNo}`}</Descriptions.Item>
                  )}
                </Descriptions>
              </Card>
              {c.status === "awaiting_return" && (
                <div style={{ marginTop: 16 }}>
                  <ReturnPickup caseId={c.id} base="/api/v1" returnAddress={c.returnAddress ?? null} onChange={reload} />
                </div>
              )}
              <CaseSupplierOrders orderId={c.orderId} />
              <Card size="small" title={t("decision")} style={{ marginTop: 16 }}>
                <List size="small" dataSource={c.decision?.reasons ?? []} renderItem={(r) => <List.Item>{r.message}</List.Item>} />
              </Card>
              {c.refundQuote && (
                <Card size="small" title={t("refundBreakdown")} style={{ marginTop: 16 }} data-testid="refund-quote">
                  <Descriptions size="small" column={2}>
                    <Descriptions.Item label={t("quote.goods")}>{money(c.refundQuote.goods)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.shipping")}>{money(c.refundQuote.shipping)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.returnFreight")}>{money(c.refundQuote.returnFreight)}</Descriptions.Item>
                    <Descriptions.Item label={t("quote.deductions")}>
                      {money(
                        c.refundQuote.deductions.reduce((s, d) => s + d.amount, 0) +
                          c.refundQuote.giftDeduction +
                          c.refundQuote.thresholdResettlement,
                      )}
                    </Descriptions.Item>
                    <Descriptions.Item label={t("quote.total")}>
                      <b>{money(c.refundQuote.total)}</b>
                    </Descriptions.Item>
                  </Descriptions>
                  <List size="small" dataSource={c.refundQuote.reasons} renderItem={(r) => <List.Item>{r.message}</List.Item>} />
                </Card>
              )}
              <CaseRefunds caseId={c.id} />
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
                          v === c.economics?.recommended ? (
                            <Tag color="green">{`${t(`option.${v}`, { defaultValue: v })} · ${t("recommended")}`}</Tag>
                          ) : (
                            t(`option.${v}`, { defaultValue: v })
                          ),
                      },
                      { title: t("amount"), dataIndex: "netCost", render: (v: number) => money(v) },
                      { title: "", dataIndex: "allowed", render: (v: boolean) => (v ? "" : "—") },
                    ]}
                  />
                  {c.supplierTerms?.warnings?.map((w) => (
                    <Typography.Paragraph key={w.code} type="warning" style={{ marginTop: 8 }}>
                      {w.message}
                    </Typography.Paragraph>
                  ))}
                </Card>
              )}
              {c.supplierId && <CaseRecovery caseId={c.id} />}
            </Col>
            <Col xs={24} lg={10}>
              <div style={{ marginBottom: 16 }}>
                <ConversationPanel caseId={c.id} hasSupplier={Boolean(c.supplierId)} />
              </div>
              <Card size="small" title={t("timeline")}>
                <Timeline
                  items={c.timeline.map((e) => ({
                    content: (
                      <span>
                        <b title={e.action}>{timelineName(t, e.action)}</b> {e.to && <StatusTag status={e.to} />}{" "}
                        <Typography.Text type="secondary">{when(e.at, c.shopTimezone)}</Typography.Text>
                        {e.note && <div>{e.note}</div>}
                      </span>
                    ),
                  }))}
                />
              </Card>
              <Card size="small" title={t("evidence")} style={{ marginTop: 16 }}>
                <Space wrap>
                  {c.evidence.map((e) =>
                    e.kind === "image" ? (
                      <Image key={e.id} width={96} src={e.url} alt={e.filename ?? t("evidence")} />
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
