import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  type FormInstance,
  Input,
  InputNumber,
  List,
  Radio,
  Rate,
  Select,
  Space,
  Timeline,
  Typography,
  Upload,
} from "antd";
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { Route, Routes, useNavigate, useParams } from "react-router-dom";
import { REASONS } from "../../../src/domain/vocabulary";
import { api, money, when } from "../api";
import { CarrierInput, ReturnPickup } from "../carriers";
import { timelineName } from "../names";
import { applyFieldErrors, Loadable, StatusTag } from "../shared";
import type { CaseView, Eligibility, PortalOrder, SurveyView } from "../types/views";
import { CaseSummary } from "./CaseSummary";
import { Lookup, shell } from "./Lookup";
import { takeLinkToken } from "./link-token";

// The conversation loads with the case page, not with the lookup.
const PortalThread = lazy(() => import("../console/Conversation").then((m) => ({ default: m.PortalThread })));
const PortalUnread = lazy(() => import("../console/Conversation").then((m) => ({ default: m.PortalUnread })));

function OrderPage() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const { message } = App.useApp();
  const [reason, setReason] = useState("quality");
  const [form] = Form.useForm();
  const [files, setFiles] = useState<File[]>([]);
  const order = useQuery({ queryKey: ["portal-order"], queryFn: () => api<PortalOrder>("GET", "/portal/api/order") });
  const elig = useQuery({
    queryKey: ["portal-elig", reason],
    queryFn: () => api<Eligibility>("GET", `/portal/api/eligibility?reason=${reason}`),
  });
  const submit = async (v: { type: string; lineId: string; quantity: number; description?: string }) => {
    try {
      const c = await api<CaseView>("POST", "/portal/api/cases", {
        orderId: (order.data as PortalOrder).id,
        type: v.type,
        reason,
        lines: [{ orderLineId: v.lineId, quantity: v.quantity }],
        description: v.description ?? "",
      });
      for (const f of files) {
        const fd = new FormData();
        fd.append("file", f);
        await api("POST", `/portal/api/cases/${c.id}/evidence`, fd);
      }
      message.success(t("requestSent"));
      nav(`/portal/cases/${c.id}`);
    } catch (e) {
      applyFieldErrors(form, e);
      const reasons = (e as any).details?.reasons as { message: string }[] | undefined;
      message.error(reasons?.[0]?.message ?? (e as Error).message);
    }
  };
  return shell(
    <Loadable q={order}>
      {(o) => (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Card size="small" title={`${t("orderNo")} ${o.platformOrderNo}`}>
            <List
              size="small"
              dataSource={o.lines}
              renderItem={(l) => (
                <List.Item>
                  {l.title} × {l.quantity} · {money(l.paidAmount)}
                </List.Item>
              )}
            />
            {o.cases.map((c) => (
              <div key={c.id}>
                <a onClick={() => nav(`/portal/cases/${c.id}`)}>{c.caseNo}</a> <StatusTag status={c.status} />{" "}
                <Suspense fallback={null}>
                  <PortalUnread caseId={c.id} />
                </Suspense>
              </div>
            ))}
          </Card>
          <Card size="small" title={t("whatHappened")}>
            <Select
              value={reason}
              onChange={setReason}
              aria-label={t("whatHappened")}
              style={{ width: "100%", marginBottom: 12 }}
              options={REASONS.map((r) => ({ value: r, label: t(`reason.${r}`) }))}
              data-testid="reason"
            />
            <Loadable q={elig}>
              {(e) => (
                <Form form={form} layout="vertical" onFinish={submit} initialValues={{ lineId: e.lines[0]?.orderLineId, quantity: 1 }}>
                  <Form.Item name="lineId" label={t("lines")} rules={[{ required: true }]}>
                    <Select options={e.lines.map((l) => ({ value: l.orderLineId, label: l.title }))} />
                  </Form.Item>
                  <RemedyChoice lines={e.lines} form={form} />
                  <Form.Item name="quantity" label={t("quantity")} rules={[{ required: true }]}>
                    <InputNumber min={1} />
                  </Form.Item>
                  <Form.Item name="description" label={t("describe")}>
                    <Input.TextArea rows={3} />
                  </Form.Item>
                  <Form.Item label={t("photo")}>
                    <Upload
                      accept="image/*,video/*"
                      multiple
                      beforeUpload={(f) => {
                        setFiles((x) => [...x, f]);
                        return false;
                      }}
                      onRemove={(f) => setFiles((x) => x.filter((y) => y.name !== f.name))}
                    >
                      <Button>{t("photo")}</Button>
                    </Upload>
                  </Form.Item>
                  <Button type="primary" htmlType="submit" block data-testid="submit-case">
                    {t("submit")}
                  </Button>
                </Form>
              )}
            </Loadable>
          </Card>
        </Space>
      )}
    </Loadable>,
    t("portalTitle"),
  );
}

function CasePage() {
  const { id } = useParams();
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const q = useQuery({ queryKey: ["portal-case", id], queryFn: () => api<CaseView>("GET", `/portal/api/cases/${id}`) });
  const reload = () => void qc.invalidateQueries({ queryKey: ["portal-case", id] });
  return shell(
    <Loadable q={q}>
      {(c) => (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Card size="small" title={c.caseNo} extra={<StatusTag status={c.status} />}>
            <div>
              {t(`type.${c.type}`)} · {t(`reason.${c.reason}`)}
            </div>
            <CaseSummary c={c} />
          </Card>
          {c.status === "awaiting_return" && <ReturnPickup caseId={c.id} base="/portal/api" returnAddress={null} onChange={reload} />}
          {c.status === "awaiting_return" && (
            <Card size="small" title={t("carriers.orShip")}>
              <Form
                layout="vertical"
                onFinish={async (v) => {
                  try {
                    await api("POST", `/portal/api/cases/${c.id}/return-shipment`, v);
                    reload();
                  } catch (e) {
                    message.error((e as Error).message);
                  }
                }}
              >
                <Form.Item name="carrier" label={t("carrier")} rules={[{ required: true }]}>
                  <CarrierInput />
                </Form.Item>
                <Form.Item name="trackingNo" label={t("trackingNo")} rules={[{ required: true }]}>
                  <Input />
                </Form.Item>
                <Button htmlType="submit" type="primary" block data-testid="submit-return">
                  {t("submit")}
                </Button>
              </Form>
            </Card>
          )}
          {c.status === "offer_pending" && (
            <Button
              type="primary"
              onClick={async () => {
                await api("POST", `/portal/api/cases/${c.id}/actions/accept-offer`, {});
                reload();
              }}
            >
              {t("action.accept-offer")} ({t(`offerKind.${c.offer?.kind}`, { defaultValue: c.offer?.kind ?? "" })} {money(c.offer?.amount)})
            </Button>
          )}
          <Suspense fallback={null}>
            <PortalThread caseId={c.id} />
          </Suspense>
          <Card size="small" title={t("timeline")}>
            <Timeline
              items={c.timeline.map((e) => ({
                content: (
                  <span>
                    {e.to ? <StatusTag status={e.to} /> : timelineName(t, e.action)} {when(e.at, c.shopTimezone)} {e.note}
                  </span>
                ),
              }))}
            />
          </Card>
          <Button block onClick={() => nav("/portal/order")} style={{ minHeight: 44 }}>
            {t("back")}
          </Button>
        </Space>
      )}
    </Loadable>,
    t("portalTitle"),
  );
}

type RemedyOption = { type: string; allowed: boolean; reasons: { message: string; messageEn: string }[] };

/**
 * The remedies the policy offers for the chosen line, as choices to tap (each at least 44 px tall):
 * the ones it allows can be picked, the others are shown greyed with the policy's reason.
 */
function RemedyChoice({ lines, form }: { lines: { orderLineId: string; options: RemedyOption[] }[]; form: FormInstance }) {
  const { t } = useTranslation();
  const lineId = Form.useWatch("lineId", form);
  const line = lines.find((l) => l.orderLineId === lineId) ?? lines[0];
  const en = localStorage.getItem("dd_lang") === "en";
  return (
    <Form.Item name="type" label={t("chooseRemedy")} rules={[{ required: true }]}>
      <Radio.Group data-testid="case-type" style={{ width: "100%" }}>
        <Space orientation="vertical" style={{ width: "100%" }}>
          {(line?.options ?? []).map((op) => (
            <Radio
              key={op.type}
              value={op.type}
              disabled={!op.allowed}
              data-option={op.type}
              data-allowed={op.allowed}
              style={{ minHeight: 44, display: "flex", alignItems: "center" }}
            >
              {t(`type.${op.type}`)}
              {!op.allowed && op.reasons[0] && (
                <Typography.Text type="secondary" style={{ display: "block", fontSize: 13 }}>
                  {en ? op.reasons[0].messageEn : op.reasons[0].message}
                </Typography.Text>
              )}
            </Radio>
          ))}
        </Space>
      </Radio.Group>
    </Form.Item>
  );
}

function Survey() {
  const { token } = useParams();
  const { t } = useTranslation();
  const [done, setDone] = useState(false);
  const q = useQuery({ queryKey: ["survey", token], queryFn: () => api<SurveyView>("GET", `/portal/api/surveys/${token}`) });
  return shell(
    <Loadable q={q}>
      {(s) =>
        done || s.answered ? (
          <Alert type="success" title={t("thanks")} />
        ) : (
          <Form
            layout="vertical"
            onFinish={async (v) => {
              await api("POST", `/portal/api/surveys/${token}`, v);
              setDone(true);
            }}
          >
            <Typography.Paragraph>{s.caseNo}</Typography.Paragraph>
            <Form.Item name="score" label={t("surveyQuestion")} rules={[{ required: true, message: t("surveyScoreRequired") }]}>
              <Rate style={{ fontSize: 32 }} />
            </Form.Item>
            <Form.Item name="comment" label={t("surveyComment")}>
              <Input.TextArea rows={3} maxLength={2000} />
            </Form.Item>
            <Button type="primary" htmlType="submit">
              {t("submit")}
            </Button>
          </Form>
        )
      }
    </Loadable>,
    t("survey"),
  );
}

export default function Portal() {
  takeLinkToken();
  return (
    <Routes>
      <Route path="/" element={<Lookup />} />
      <Route path="/order" element={<OrderPage />} />
      <Route path="/cases/:id" element={<CasePage />} />
      <Route path="/survey/:token" element={<Survey />} />
    </Routes>
  );
}
