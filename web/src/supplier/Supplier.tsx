import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Input, Layout, Row, Space, Statistic, Table, Tabs, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, money, when } from "../api";
import { CarrierInput } from "../carriers";
import { ClaimActions } from "../claims";
import { SupplierLinkedThread, SupplierThread } from "../console/Conversation";
import { LanguageButton, Loadable, LoginForm, NoteDialog, StatusTag, useConfirm, useMe } from "../shared";
import type { Page } from "../types";
import type { SuppliersReport } from "../types/analytics";
import type { Claim, Statement } from "../types/money";
import type { CaseListItem, ShipCsvResult, SupplierOrderRow } from "../types/views";

/** Many parcels at once: a CSV of supplier order (or order number), carrier and tracking number. */
function ShipCsv({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const [result, setResult] = useState<ShipCsvResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Space orientation="vertical" style={{ marginBottom: 12 }}>
      <Space>
        <Typography.Text>{t("shipCsv")}</Typography.Text>
        <input
          type="file"
          accept=".csv,text/csv"
          data-testid="ship-csv"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            const fd = new FormData();
            fd.append("file", f);
            try {
              setResult(await api<ShipCsvResult>("POST", "/api/v1/supplier-orders/ship-csv", fd));
              setError(null);
              onDone();
            } catch (err) {
              setError((err as Error).message);
            }
            e.target.value = "";
          }}
        />
      </Space>
      {error && <Typography.Text type="danger">{error}</Typography.Text>}
      {result && (
        <Typography.Text data-testid="ship-csv-result">
          {`✓ ${result.shipped} · ✗ ${result.failed}`}
          {result.results
            ?.filter((r) => !r.ok)
            .map((r) => ` · line ${r.line}: ${r.field ?? ""} ${r.message}`)
            .join("")}
        </Typography.Text>
      )}
    </Space>
  );
}

function Statements() {
  const q = useQuery({ queryKey: ["my-statements"], queryFn: () => api<Page<Statement>>("GET", "/api/v1/supplier-statements") });
  const { t } = useTranslation();
  return (
    <Loadable q={q} empty={(d) => d.items.length === 0}>
      {(d) => (
        <Table
          rowKey="id"
          size="small"
          scroll={{ x: "max-content" }}
          dataSource={d.items}
          columns={[
            { title: t("period"), render: (_: unknown, s) => `${String(s.from).slice(0, 10)} – ${String(s.to).slice(0, 10)}` },
            { title: t("amount"), render: (_: unknown, s) => money(s.totals?.payable) },
            {
              title: t("status"),
              dataIndex: "status",
              render: (v: string) => <Tag data-status={v}>{t(`stStatus.${v}`, { defaultValue: v })}</Tag>,
            },
            {
              title: "",
              render: (_: unknown, s) => (
                <Button size="small" href={`/api/v1/supplier-statements/${s.id}/export.csv`}>
                  CSV
                </Button>
              ),
            },
          ]}
        />
      )}
    </Loadable>
  );
}

function ShipCell({ so, onDone }: { so: SupplierOrderRow; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [carrier, setCarrier] = useState("");
  const [no, setNo] = useState("");
  return (
    <Space.Compact>
      <CarrierInput value={carrier} onChange={setCarrier} style={{ width: 130 }} data-testid="carrier" />
      <Input
        placeholder={t("trackingNo")}
        value={no}
        onChange={(e) => setNo(e.target.value)}
        style={{ width: 150 }}
        data-testid="tracking"
      />
      <Button
        type="primary"
        data-testid="ship"
        onClick={async () => {
          try {
            await api("POST", `/api/v1/supplier-orders/${so.id}/actions/ship`, { carrier, trackingNo: no });
            message.success(t("case.done", { action: t("ship") }));
            onDone();
          } catch (e) {
            message.error((e as Error).message);
          }
        }}
      >
        {t("ship")}
      </Button>
    </Space.Compact>
  );
}

/**
 * What the supplier can do with one order now. A cancel request is answered first (同意 / 拒绝取消);
 * an intercept request gets its result; otherwise accept and ship.
 */
function SoActions({ so, onDone }: { so: SupplierOrderRow; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const [refusing, setRefusing] = useState(false);
  const path = (a: string) => `/api/v1/supplier-orders/${so.id}/actions/${a}`;
  const can = (a: string) => so.allowedActions.includes(a);
  const ask = (a: string, what: string, body: Record<string, unknown> = {}, done = t("so.sent"), danger = false) =>
    void confirm({
      title: t(`soAction.${a}`, { defaultValue: t("action.other") }),
      content: what,
      run: () => api("POST", path(a.split(".")[0]), body),
      done,
      danger,
    }).then((ran) => ran && onDone());
  if (so.status === "cancel_requested")
    return (
      <Space wrap data-testid="cancel-request">
        <Tag color="orange">{t("so.cancelRequested")}</Tag>
        {can("confirm-cancel") && (
          <Button size="small" type="primary" data-action="confirm-cancel" onClick={() => ask("confirm-cancel", t("so.confirmCancelWhat"))}>
            {t("soAction.confirm-cancel")}
          </Button>
        )}
        {can("refuse-cancel") && (
          <Button size="small" danger data-action="refuse-cancel" onClick={() => setRefusing(true)}>
            {t("soAction.refuse-cancel")}
          </Button>
        )}
        <NoteDialog
          open={refusing}
          title={t("soAction.refuse-cancel")}
          what={t("so.refuseCancelWhat")}
          send={(note) => api("POST", path("refuse-cancel"), { note })}
          done={t("so.sent")}
          onClose={(sent) => {
            setRefusing(false);
            if (sent) onDone();
          }}
        />
      </Space>
    );
  if (so.status === "intercept_requested" && can("intercept-result"))
    return (
      <Space wrap>
        <Tag color="orange">{t("so.interceptRequested")}</Tag>
        <Button
          size="small"
          data-action="intercept-result-intercepted"
          onClick={() => ask("intercept-result.intercepted", t("so.interceptedWhat"), { outcome: "intercepted" }, t("so.intercepted"))}
        >
          {t("soAction.intercept-result.intercepted")}
        </Button>
        <Button
          size="small"
          data-action="intercept-result-failed"
          onClick={() => ask("intercept-result.failed", t("so.failedWhat"), { outcome: "failed" }, t("so.interceptFailed"))}
        >
          {t("soAction.intercept-result.failed")}
        </Button>
      </Space>
    );
  return (
    <Space wrap>
      {can("accept") && (
        <Button
          size="small"
          data-action="accept"
          onClick={async () => {
            try {
              await api("POST", path("accept"), {});
              message.success(t("case.done", { action: t("soAction.accept") }));
              onDone();
            } catch (e) {
              message.error((e as Error).message);
            }
          }}
        >
          {t("soAction.accept")}
        </Button>
      )}
      {can("ship") && <ShipCell so={so} onDone={onDone} />}
      {can("mark-returned") && (
        <Button size="small" data-action="mark-returned" onClick={() => ask("mark-returned", t("soAction.mark-returned"))}>
          {t("soAction.mark-returned")}
        </Button>
      )}
    </Space>
  );
}

export default function Supplier() {
  const { t } = useTranslation();
  const me = useMe();
  const qc = useQueryClient();
  const orders = useQuery({
    queryKey: ["so"],
    queryFn: () => api<Page<SupplierOrderRow>>("GET", "/api/v1/supplier-orders?limit=200"),
    enabled: Boolean(me.data),
  });
  const claims = useQuery({
    queryKey: ["claims"],
    queryFn: () => api<Page<Claim>>("GET", "/api/v1/supplier-claims?limit=200"),
    enabled: Boolean(me.data),
  });
  const cases = useQuery({
    queryKey: ["supplier-cases"],
    queryFn: () => api<Page<CaseListItem>>("GET", "/api/v1/cases?limit=200"),
    enabled: Boolean(me.data),
  });
  const reload = () => void qc.invalidateQueries({ queryKey: ["so"] });
  const reloadClaims = () => void qc.invalidateQueries({ queryKey: ["claims"] });
  return (
    <Loadable q={me}>
      {(user) =>
        !user ? (
          <LoginForm title={t("supplierPortal")} onDone={() => void qc.invalidateQueries({ queryKey: ["me"] })} />
        ) : (
          <Layout style={{ minHeight: "100vh" }}>
            <Layout.Header style={{ background: "#fff", display: "flex", justifyContent: "space-between", alignItems: "center" }}>
              <Typography.Title level={5} style={{ margin: 0 }}>
                {t("supplierPortal")} · {user.name}
              </Typography.Title>
              <Space>
                <LanguageButton />
                <Button
                  size="small"
                  onClick={async () => {
                    await api("POST", "/api/v1/auth/logout");
                    void qc.invalidateQueries({ queryKey: ["me"] });
                  }}
                >
                  {t("signOut")}
                </Button>
              </Space>
            </Layout.Header>
            <Layout.Content style={{ padding: 16 }}>
              <SupplierLinkedThread />
              <Tabs
                items={[
                  {
                    key: "orders",
                    label: t("supplierOrders"),
                    children: (
                      <>
                        <ShipCsv onDone={reload} />
                        <Loadable q={orders}>
                          {(d) => (
                            <Table
                              rowKey="id"
                              size="small"
                              scroll={{ x: "max-content" }}
                              dataSource={d.items}
                              columns={[
                                { title: t("orderNo"), dataIndex: "platformOrderNo" },
                                {
                                  title: t("lines"),
                                  dataIndex: "lines",
                                  render: (ls: SupplierOrderRow["lines"]) => ls.map((l) => `${l.skuCode}×${l.quantity}`).join(", "),
                                },
                                {
                                  title: t("consignee"),
                                  dataIndex: "shipTo",
                                  render: (to: SupplierOrderRow["shipTo"]) =>
                                    to ? (
                                      <div data-testid="consignee">
                                        <div>
                                          {to.name ?? "—"} {to.phone ?? ""}
                                        </div>
                                        <Typography.Text type="secondary">{to.address ?? ""}</Typography.Text>
                                      </div>
                                    ) : (
                                      "—"
                                    ),
                                },
                                {
                                  title: t("status"),
                                  dataIndex: "status",
                                  render: (s: string) => <Tag data-status={s}>{t(`soStatus.${s}`, { defaultValue: s })}</Tag>,
                                },
                                {
                                  title: t("deadline"),
                                  dataIndex: "shipBy",
                                  render: (v: string | null, so) =>
                                    so.late ? (
                                      <Space orientation="vertical" size={0} data-testid="late">
                                        <Typography.Text type="danger" strong>
                                          {when(v, so.shopTimezone)}
                                        </Typography.Text>
                                        <Tag color="red">{t("so.overdue")}</Tag>
                                      </Space>
                                    ) : (
                                      when(v, so.shopTimezone)
                                    ),
                                },
                                { title: t("actions"), render: (_: unknown, so) => <SoActions so={so} onDone={reload} /> },
                              ]}
                            />
                          )}
                        </Loadable>
                      </>
                    ),
                  },
                  {
                    key: "cases",
                    label: t("supplierCases"),
                    children: (
                      <Loadable q={cases} empty={(d) => d.items.length === 0}>
                        {(d) => (
                          <Table
                            rowKey="id"
                            size="small"
                            scroll={{ x: "max-content" }}
                            dataSource={d.items}
                            columns={[
                              { title: "#", dataIndex: "caseNo" },
                              { title: t("orderNo"), dataIndex: "platformOrderNo" },
                              {
                                title: t("cv.messages"),
                                render: (_: unknown, c) => (
                                  <SupplierThread caseId={c.id} caseNo={c.caseNo} unread={c.unreadMessages ?? 0} />
                                ),
                              },
                              { title: t("type"), dataIndex: "type", render: (v: string) => t(`type.${v}`) },
                              { title: t("reason"), dataIndex: "reason", render: (v: string) => t(`reason.${v}`) },
                              { title: t("status"), dataIndex: "status", render: (v: string) => <StatusTag status={v} /> },
                              {
                                title: t("createdAt"),
                                dataIndex: "createdAt",
                                render: (v: string | null, c) => when(v, c.shopTimezone),
                              },
                            ]}
                          />
                        )}
                      </Loadable>
                    ),
                  },
                  {
                    key: "statements",
                    label: t("statements"),
                    children: <Statements />,
                  },
                  {
                    key: "scorecard",
                    label: t("sc.title"),
                    children: <Scorecard />,
                  },
                  {
                    key: "claims",
                    label: t("claims"),
                    children: (
                      <Loadable q={claims}>
                        {(d) => (
                          <Table
                            rowKey="id"
                            size="small"
                            scroll={{ x: "max-content" }}
                            dataSource={d.items}
                            columns={[
                              { title: "#", dataIndex: "caseNo" },
                              { title: t("amount"), dataIndex: "amount", render: (v: number) => money(v) },
                              {
                                title: t("status"),
                                dataIndex: "status",
                                render: (s: string) => <Tag data-status={s}>{t(`claimStatus.${s}`, { defaultValue: s })}</Tag>,
                              },
                              { title: t("actions"), render: (_: unknown, c) => <ClaimActions claim={c} onDone={reloadClaims} /> },
                            ]}
                          />
                        )}
                      </Loadable>
                    ),
                  },
                ]}
              />
            </Layout.Content>
          </Layout>
        )
      }
    </Loadable>
  );
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)} %`);

/** The supplier's own scorecard over the last 90 days: what the merchant measures it on. */
function Scorecard() {
  const { t } = useTranslation();
  const to = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
  const from = new Date(Date.parse(`${to}T00:00:00Z`) - 89 * 86_400_000).toISOString().slice(0, 10);
  const q = useQuery({
    queryKey: ["my-scorecard", from, to],
    queryFn: () => api<SuppliersReport>("GET", `/api/v1/analytics/suppliers?from=${from}&to=${to}`),
  });
  return (
    <Loadable q={q} empty={(d) => d.items.length === 0}>
      {(d) => {
        const c = d.items[0];
        return (
          <Space orientation="vertical" style={{ width: "100%" }} data-testid="scorecard">
            <Typography.Text type="secondary">
              {from} – {to} · {t("sc.note")}
            </Typography.Text>
            <Row gutter={[16, 16]}>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic
                    title={t("sc.score")}
                    value={c.score.toFixed(2)}
                    styles={{ content: { color: c.score >= 0.8 ? "#389e0d" : c.score >= 0.6 ? "#d48806" : "#cf1322" } }}
                  />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("supplierOrders")} value={c.supplierOrders} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("sc.defectRate")} value={pct(c.defectRate)} suffix={<small>({c.defectCases})</small>} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("sc.wrongItemRate")} value={pct(c.wrongItemRate)} suffix={<small>({c.wrongItemCases})</small>} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("sc.lateShipRate")} value={pct(c.lateShipRate)} suffix={<small>({c.lateShipments})</small>} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("sc.claims")} value={c.claims.opened} suffix={<small>· {pct(c.claims.acceptanceRate)}</small>} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card size="small">
                  <Statistic title={t("sc.recovered")} value={money(c.claims.recovered)} />
                </Card>
              </Col>
            </Row>
          </Space>
        );
      }}
    </Loadable>
  );
}
