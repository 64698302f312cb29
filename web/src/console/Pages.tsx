import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  Checkbox,
  Col,
  Descriptions,
  Empty,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Row,
  Select,
  Space,
  Statistic,
  Switch,
  Table,
  Tag,
  Typography,
} from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { CASE_STATUSES, CASE_TYPES, ORDER_STATUSES, REASONS, REFUND_METHODS, ROLES, STAFF_ROLES } from "../../../src/domain/vocabulary";
import { api, money, when } from "../api";
import { carrierName, postingName } from "../names";
import { Loadable, reportError, StatusTag, useConfirm, useMe } from "../shared";
import type { ApiToken, Page, Refund, Shop, Supplier, TrialBalance, User } from "../types";
import type { Overview } from "../types/analytics";
import type { InboxCase, Offer, Order, OrderLedger, OrderListItem, OrderSupplierOrder } from "../types/views";
import { CarrierIntercept } from "./CarrierActions";
import { QueueTabs, queueColumns, sortParam, useCaseDetails } from "./CaseQueues";
import { PlatformLinks } from "./Connectors";
import { GatewayQueue, RouteNames } from "./GatewayQueue";
import { Chart } from "./Reports";
import { OfferLinkCell, Recoveries, SupplierChannelCell } from "./SupplierChannels";

/** The inbox's status filter: the vocabulary's statuses, with rejected listed among the ends. */
const STATUS_FILTER = [...CASE_STATUSES.filter((s) => s !== "rejected" && s !== "cancelled"), "rejected", "cancelled"];

/** Counts the items of a list, up to the API's page limit (shown as "500+" above it). */
async function count(path: string): Promise<{ n: number; more: boolean }> {
  const r = await api<Page<unknown>>("GET", `${path}${path.includes("?") ? "&" : "?"}limit=500`);
  return { n: r.items.length, more: Boolean(r.nextCursor) };
}
const shown = (c: { n: number; more: boolean }) => (c.more ? `${c.n}+` : String(c.n));

/** Open cases by status, overdue cases and today's refunds (exact, from the analytics overview), and the orders waiting. */
export function Dashboard() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const q = useQuery({
    queryKey: ["dashboard"],
    queryFn: async () => {
      const [overview, orders, toShip] = await Promise.all([
        api<Overview>("GET", "/api/v1/analytics/overview"),
        count("/api/v1/orders"),
        count("/api/v1/orders?status=forwarded"),
      ]);
      return { overview, orders, toShip };
    },
  });
  return (
    <Loadable q={q}>
      {(d) => {
        const open = d.overview.openCases;
        const openCount = open.reduce((s, x) => s + x.count, 0);
        const overdue = d.overview.overdue.count;
        return (
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Row gutter={[16, 16]}>
              <Col xs={12} lg={6}>
                <Card onClick={() => nav("/cases")} style={{ cursor: "pointer" }}>
                  <Statistic title={t("openCases")} value={openCount} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card onClick={() => nav("/cases?overdue=true")} style={{ cursor: "pointer" }}>
                  <Statistic title={t("overdue")} value={overdue} styles={{ content: { color: overdue ? "#cf1322" : undefined } }} />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card onClick={() => nav("/orders")} style={{ cursor: "pointer" }}>
                  <Statistic
                    title={t("orders")}
                    value={shown(d.orders)}
                    suffix={
                      <small>
                        · {t("toShip")} {shown(d.toShip)}
                      </small>
                    }
                  />
                </Card>
              </Col>
              <Col xs={12} lg={6}>
                <Card>
                  <Statistic
                    title={t("refundsToday")}
                    value={money(d.overview.refundsToday.amount)}
                    suffix={<small>· {d.overview.refundsToday.count}</small>}
                  />
                </Card>
              </Col>
            </Row>
            <Card title={t("byStatus")} data-testid="cases-by-status">
              {open.length ? (
                <Chart
                  testId="open-cases-chart"
                  height={260}
                  onPick={(i) => void nav(`/cases?${new URLSearchParams(open[i].drillDown)}`)}
                  option={{
                    tooltip: {},
                    grid: { left: 40, right: 10, top: 10, bottom: 60 },
                    xAxis: { type: "category", data: open.map((x) => t(`status.${x.status}`)), axisLabel: { rotate: 30 } },
                    yAxis: { type: "value", minInterval: 1 },
                    series: [{ type: "bar", data: open.map((x) => x.count), itemStyle: { color: "#d4380d" } }],
                  }}
                />
              ) : (
                <Empty description={t("empty")} />
              )}
            </Card>
          </Space>
        );
      }}
    </Loadable>
  );
}

export function Orders() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const [q, setQ] = useState("");
  const [status, setStatus] = useState<string | undefined>();
  const params = new URLSearchParams({ limit: "100", ...(q && { q }), ...(status && { status }) });
  const list = useQuery({ queryKey: ["orders", q, status], queryFn: () => api<Page<OrderListItem>>("GET", `/api/v1/orders?${params}`) });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space wrap>
        <Input.Search placeholder={t("search")} onSearch={setQ} allowClear style={{ width: 240 }} />
        <Select
          allowClear
          placeholder={t("status")}
          style={{ width: 180 }}
          onChange={setStatus}
          options={ORDER_STATUSES.map((s) => ({ value: s, label: t(`orderStatus.${s}`) }))}
        />
        <Button href={`/api/v1/orders?${params}&format=csv`}>{t("exportCsv")}</Button>
      </Space>
      <Loadable q={list}>
        {(d) => (
          <Table
            rowKey="id"
            size="small"
            dataSource={d.items}
            onRow={(r) => ({ onClick: () => nav(`/orders/${r.id}`), style: { cursor: "pointer" } })}
            columns={[
              { title: t("orderNo"), dataIndex: "platformOrderNo" },
              { title: t("customer"), dataIndex: "customerName" },
              {
                title: t("status"),
                dataIndex: "status",
                render: (s: string) => <Tag data-status={s}>{t(`orderStatus.${s}`, { defaultValue: s })}</Tag>,
              },
              { title: t("paid"), dataIndex: "paidTotal", render: (v: number) => money(v) },
              { title: t("placedAt"), dataIndex: "placedAt", render: (v: string | null, o) => when(v, o.shopTimezone) },
            ]}
          />
        )}
      </Loadable>
    </Space>
  );
}

export function OrderDetail() {
  const { id } = useParams();
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const q = useQuery({ queryKey: ["order", id], queryFn: () => api<Order>("GET", `/api/v1/orders/${id}`) });
  const ledger = useQuery({ queryKey: ["order-ledger", id], queryFn: () => api<OrderLedger>("GET", `/api/v1/orders/${id}/ledger`) });
  const confirm = useConfirm();
  const [cancelling, setCancelling] = useState(false);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["order", id] });
    void qc.invalidateQueries({ queryKey: ["order-ledger", id] });
    void qc.invalidateQueries({ queryKey: ["orders"] });
  };
  const act = async (a: string) => {
    if (!a) return refresh();
    if (a === "cancel") return setCancelling(true);
    try {
      await api("POST", `/api/v1/orders/${id}/actions/${a}`);
      message.success(`${t(`orderAction.${a}`, { defaultValue: t("action.other") })}：${t("order.done")}`);
      refresh();
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  /** Asks the supplier to cancel (before shipping) or intercept (in transit); its answer comes back on the row. */
  const askSupplier = (so: OrderSupplierOrder, a: "request-cancel" | "request-intercept") =>
    void confirm({
      title: t(`soAction.${a}`),
      content:
        a === "request-cancel"
          ? t("so.requestCancelWhat", { supplier: so.supplierName })
          : t("so.requestInterceptWhat", { supplier: so.supplierName, tracking: `${carrierName(t, so.carrier)} ${so.trackingNo ?? ""}` }),
      run: () => api("POST", `/api/v1/supplier-orders/${so.id}/actions/${a}`, {}),
      done: t("so.sent"),
    }).then((ran) => ran && refresh());
  return (
    <Loadable q={q}>
      {(o) => (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Space>
            <Button onClick={() => nav("/orders")}>{t("back")}</Button>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {o.platformOrderNo}
            </Typography.Title>
            <Tag data-status={o.status}>{t(`orderStatus.${o.status}`, { defaultValue: o.status })}</Tag>
            {o.needsSourcing && <Tag color="red">{o.sourcingNote}</Tag>}
            {o.allowedActions
              .filter((a) => a !== "goodwill-refund" && a !== "confirm-payment" && a !== "change-address")
              .map((a) => (
                <Button key={a} onClick={() => act(a)} data-action={a} danger={a === "cancel"}>
                  {t(`orderAction.${a}`, { defaultValue: t("action.other") })}
                </Button>
              ))}
            {o.allowedActions.includes("goodwill-refund") && <GoodwillRefund orderId={o.id} onDone={() => act("")} />}
            <PlatformLinks orderId={o.id} />
          </Space>
          <CancelOrder
            open={cancelling}
            order={o}
            onClose={() => setCancelling(false)}
            onDone={() => {
              setCancelling(false);
              refresh();
            }}
          />
          <Descriptions size="small" column={{ xs: 1, md: 3 }} data-testid="order-times">
            <Descriptions.Item label={t("placedAt")}>
              <span data-testid="order-placed">{when(o.placedAt ?? o.createdAt, o.shopTimezone)}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t("order.paidAt")}>{when(o.paidAt, o.shopTimezone)}</Descriptions.Item>
            <Descriptions.Item label={t("order.deliveredAt")}>{when(o.deliveredAt, o.shopTimezone)}</Descriptions.Item>
          </Descriptions>
          <Card size="small" title={t("lines")}>
            <Table
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={o.lines}
              columns={[
                { title: "SKU", dataIndex: "skuCode" },
                { title: "", dataIndex: "title" },
                { title: t("quantity"), dataIndex: "quantity" },
                { title: t("paid"), dataIndex: "paidAmount", render: (v: number) => money(v) },
              ]}
            />
          </Card>
          <Card size="small" title={t("supplierOrders")}>
            <Table
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={o.supplierOrders}
              columns={[
                { title: t("suppliers"), dataIndex: "supplierName" },
                {
                  title: t("status"),
                  dataIndex: "status",
                  render: (s: string) => <Tag data-status={s}>{t(`soStatus.${s}`, { defaultValue: s })}</Tag>,
                },
                { title: t("carrier"), dataIndex: "carrier", render: (c: string | null) => carrierName(t, c) },
                { title: t("trackingNo"), dataIndex: "trackingNo" },
                { title: "", dataIndex: "purpose", render: (p: string) => t(`soPurpose.${p}`, { defaultValue: "" }) },
                {
                  title: t("actions"),
                  render: (_: unknown, so) => (
                    <Space>
                      {(["request-cancel", "request-intercept"] as const)
                        .filter((a) => so.allowedActions?.includes(a))
                        .map((a) => (
                          <Button key={a} size="small" data-action={a} onClick={() => askSupplier(so, a)}>
                            {t(`soAction.${a}`)}
                          </Button>
                        ))}
                      <CarrierIntercept so={so} onDone={refresh} />
                    </Space>
                  ),
                },
              ]}
            />
          </Card>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Card size="small" title={t("cases")}>
                <List
                  dataSource={o.cases}
                  renderItem={(c) => (
                    <List.Item onClick={() => nav(`/cases/${c.id}`)} style={{ cursor: "pointer" }}>
                      {c.caseNo} <StatusTag status={c.status} />
                    </List.Item>
                  )}
                />
              </Card>
            </Col>
            <Col xs={24} md={12}>
              <Card size="small" title={t("money")}>
                <Descriptions size="small" column={2}>
                  <Descriptions.Item label={t("paid")}>{money(o.money.paid)}</Descriptions.Item>
                  <Descriptions.Item label={t("refunded")}>{money(o.money.refunded)}</Descriptions.Item>
                  <Descriptions.Item label={t("refundable")}>{money(o.money.refundable)}</Descriptions.Item>
                </Descriptions>
                <Loadable q={ledger}>
                  {(l) => (
                    <List
                      size="small"
                      dataSource={l.postings}
                      renderItem={(p) => (
                        <List.Item>
                          {postingName(t, p.code)}：
                          {p.entries.map((e) => `${t(`account.${e.account}`, { defaultValue: e.account })} ${money(e.amount)}`).join(" · ")}
                        </List.Item>
                      )}
                    />
                  )}
                </Loadable>
              </Card>
            </Col>
          </Row>
        </Space>
      )}
    </Loadable>
  );
}

/** Cancelling an order: it says what happens (suppliers told, payment back) and asks for the reason. */
function CancelOrder({ open, order, onClose, onDone }: { open: boolean; order: Order; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  return (
    <Modal
      open={open}
      title={t("orderAction.cancel")}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t("confirm.ok")}
      okButtonProps={{ danger: true, ...({ "data-testid": "cancel-order-ok" } as object) }}
      destroyOnHidden
    >
      <Typography.Paragraph>{t("order.cancelWhat", { no: order.platformOrderNo })}</Typography.Paragraph>
      <Descriptions size="small" column={1} bordered style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t("refundable")}>{money(order.money?.refundable)}</Descriptions.Item>
      </Descriptions>
      <Form
        form={form}
        layout="vertical"
        onFinish={async (v) => {
          try {
            await api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { reason: v.reason });
            message.success(t("order.cancelled"));
            onDone();
          } catch (e) {
            reportError(form, message, e);
          }
        }}
      >
        <Form.Item name="reason" label={t("field.reason")} rules={[{ required: true }]}>
          <Input.TextArea rows={2} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A refund of goodwill on an order (no case): amount in yuan and a reason. */
function GoodwillRefund({ orderId, onDone }: { orderId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  return (
    <>
      <Button onClick={() => setOpen(true)} data-action="goodwill-refund">
        {t("orderAction.goodwill-refund")}
      </Button>
      <Modal
        open={open}
        title={t("orderAction.goodwill-refund")}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          initialValues={{ method: "original" }}
          onFinish={async (v) => {
            try {
              await api("POST", `/api/v1/orders/${orderId}/actions/goodwill-refund`, { ...v, amount: Math.round(v.amount * 100) });
              setOpen(false);
              onDone();
            } catch (e) {
              reportError(form, message, e);
            }
          }}
        >
          <Form.Item name="amount" label={t("amount")} rules={[{ required: true }]}>
            <InputNumber min={0.01} step={0.01} prefix="¥" style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item name="reason" label={t("reason")} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          <Form.Item name="method" label={t("method")}>
            <Select options={REFUND_METHODS.map((m) => ({ value: m, label: t(`refundMethod.${m}`) }))} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

export function Cases() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message, modal } = App.useApp();
  const [sp, setSp] = useSearchParams();
  const [selected, setSelected] = useState<string[]>([]);
  const [cursor, setCursor] = useState(0);
  // Redraw the deadline countdowns every minute.
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((x) => x + 1), 60_000);
    return () => clearInterval(timer);
  }, []);
  const { phone, ...filters } = Object.fromEntries([...sp.entries()].filter(([, v]) => v));
  const params = new URLSearchParams({ limit: "100", ...filters });
  const q = useQuery({
    queryKey: ["cases", params.toString(), phone],
    // A phone number finds the customer's cases (src/after-sales/case-queue.ts); the other filters read the inbox.
    queryFn: () =>
      phone
        ? api<Page<InboxCase>>("GET", `/api/v1/case-queue/by-phone?${new URLSearchParams({ phone })}`)
        : api<Page<InboxCase>>("GET", `/api/v1/cases?${params}`),
  });
  const details = useCaseDetails((q.data?.items ?? []).map((x) => x.id));
  const set = (k: string, v?: string) => {
    const next = new URLSearchParams(sp);
    if (v) next.set(k, v);
    else next.delete(k);
    setSp(next);
  };
  // Saved views live in this browser.
  const [views, setViews] = useState<Record<string, string>>(() => JSON.parse(localStorage.getItem("dd_views") ?? "{}"));
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).tagName === "INPUT") return;
      const items = q.data?.items ?? [];
      if (e.key === "j") setCursor((c) => Math.min(items.length - 1, c + 1));
      if (e.key === "k") setCursor((c) => Math.max(0, c - 1));
      if (e.key === "Enter" && items[cursor]) nav(`/cases/${items[cursor].id}`);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [q.data, cursor, nav]);
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<Page<Shop>>("GET", "/api/v1/shops") });
  const suppliers = useQuery({ queryKey: ["suppliers"], queryFn: () => api<Page<Supplier>>("GET", "/api/v1/suppliers?limit=200") });
  const me = useMe();
  const [naming, setNaming] = useState(false);
  const [viewForm] = Form.useForm();
  const bulk = async (action: string, body: Record<string, unknown>) => {
    let ok = 0;
    for (const id of selected) {
      try {
        await api("POST", `/api/v1/cases/${id}/actions/${action}`, body);
        ok++;
      } catch (e) {
        message.warning((e as Error).message);
      }
    }
    const failed = selected.length - ok;
    const text = action === "approve" ? t("bulk.done", { ok, failed }) : t("bulk.assigned", { ok });
    if (failed) message.warning(text);
    else message.success(text);
    setSelected([]);
    void qc.invalidateQueries({ queryKey: ["cases"] });
  };
  const bulkApprove = () =>
    modal.confirm({
      title: t("bulkApprove"),
      content: t("bulk.confirm", { count: selected.length }),
      okText: t("confirm.ok"),
      cancelText: t("confirm.cancel"),
      okButtonProps: { ...({ "data-testid": "confirm-ok" } as object) },
      onOk: () => bulk("approve", {}),
    });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <QueueTabs
        status={sp.get("status") ?? undefined}
        found={phone ? q.data?.items?.length : undefined}
        onChange={(s) => {
          const sort = sp.get("sort");
          setSp(new URLSearchParams({ ...(s ? { status: s } : {}), ...(sort ? { sort } : {}) }));
        }}
      />
      <Space wrap>
        <Input.Search
          placeholder={t("queue.phone")}
          aria-label={t("queue.phone")}
          allowClear
          inputMode="tel"
          style={{ width: 180 }}
          defaultValue={sp.get("phone") ?? ""}
          onSearch={(v) => setSp(new URLSearchParams(v.trim() ? { phone: v.trim() } : {}))}
          data-testid="search-phone"
        />
        <Select
          allowClear
          placeholder={t("status")}
          aria-label={t("status")}
          style={{ width: 160 }}
          value={sp.get("status") ?? undefined}
          onChange={(v) => set("status", v)}
          options={STATUS_FILTER.map((s) => ({ value: s, label: t(`status.${s}`) }))}
        />
        <Select
          allowClear
          placeholder={t("type")}
          aria-label={t("type")}
          style={{ width: 140 }}
          value={sp.get("type") ?? undefined}
          onChange={(v) => set("type", v)}
          options={CASE_TYPES.map((s) => ({ value: s, label: t(`type.${s}`) }))}
        />
        <Select
          allowClear
          placeholder={t("reason")}
          aria-label={t("reason")}
          style={{ width: 160 }}
          value={sp.get("reason") ?? undefined}
          onChange={(v) => set("reason", v)}
          options={REASONS.map((s) => ({ value: s, label: t(`reason.${s}`) }))}
        />
        <Select
          allowClear
          placeholder={t("assignee")}
          aria-label={t("assignee")}
          style={{ width: 140 }}
          value={sp.get("assignee") ?? undefined}
          onChange={(v) => set("assignee", v)}
          options={[
            { value: "me", label: t("assignedToMe") },
            { value: "none", label: t("unassigned") },
          ]}
          data-testid="filter-assignee"
        />
        <Select
          allowClear
          placeholder={t("shop")}
          aria-label={t("shop")}
          style={{ width: 150 }}
          value={sp.get("shopId") ?? undefined}
          onChange={(v) => set("shopId", v)}
          options={(shops.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))}
        />
        <Select
          allowClear
          placeholder={t("suppliers")}
          aria-label={t("suppliers")}
          style={{ width: 150 }}
          value={sp.get("supplierId") ?? undefined}
          onChange={(v) => set("supplierId", v)}
          options={(suppliers.data?.items ?? []).map((x) => ({ value: x.id, label: x.name }))}
        />
        <Checkbox checked={sp.get("overdue") === "true"} onChange={(e) => set("overdue", e.target.checked ? "true" : undefined)}>
          {t("onlyOverdue")}
        </Checkbox>
        <Checkbox
          checked={sp.get("unread") === "true"}
          onChange={(e) => set("unread", e.target.checked ? "true" : undefined)}
          data-testid="filter-unread"
        >
          {t("cv.onlyUnread")}
        </Checkbox>
        <Input.Search placeholder={t("search")} aria-label={t("search")} allowClear style={{ width: 200 }} onSearch={(v) => set("q", v)} />
        <Button onClick={() => setNaming(true)} data-testid="save-view">
          + {t("saveView")}
        </Button>
        <Modal open={naming} title={t("saveView")} onCancel={() => setNaming(false)} onOk={() => viewForm.submit()} destroyOnHidden>
          <Form
            form={viewForm}
            layout="vertical"
            onFinish={({ name }: { name: string }) => {
              const next = { ...views, [name.trim()]: sp.toString() };
              setViews(next);
              localStorage.setItem("dd_views", JSON.stringify(next));
              setNaming(false);
            }}
          >
            <Form.Item name="name" label={t("field.viewName")} rules={[{ required: true, whitespace: true }]}>
              <Input autoFocus />
            </Form.Item>
          </Form>
        </Modal>
        {Object.entries(views).map(([n, v]) => (
          <Tag key={n} color="orange" style={{ cursor: "pointer" }} onClick={() => setSp(new URLSearchParams(v))}>
            {n}
          </Tag>
        ))}
        <Button disabled={!selected.length} onClick={bulkApprove} data-testid="bulk-approve">
          {t("bulkApprove")}
        </Button>
        <Button
          disabled={!selected.length || !me.data}
          onClick={() => bulk("assign", { assigneeId: me.data?.id ?? null })}
          data-testid="bulk-assign"
        >
          {t("bulkAssignToMe")}
        </Button>
        <Button href={`/api/v1/cases?${params}&format=csv`}>{t("exportCsv")}</Button>
      </Space>
      <Loadable q={q}>
        {(d) => (
          <Table
            rowKey="id"
            size="small"
            data-testid="case-inbox"
            rowSelection={{ selectedRowKeys: selected, onChange: (k) => setSelected(k as string[]) }}
            dataSource={d.items}
            rowClassName={(_r, i) => (i === cursor ? "ant-table-row-selected" : "")}
            onRow={(r) => ({ onDoubleClick: () => nav(`/cases/${r.id}`) })}
            // Sorting a column asks the API again (sort=-createdAt …) unless the list is a phone search's.
            onChange={(_p, _f, sorter) => {
              if (!phone) set("sort", sortParam(sorter));
            }}
            columns={[
              {
                title: "#",
                dataIndex: "caseNo",
                render: (v: string, r) => (
                  <Space size={6}>
                    <a onClick={() => nav(`/cases/${r.id}`)}>{v}</a>
                    <Badge
                      count={r.unreadMessages}
                      size="small"
                      title={t("cv.newMessages", { count: r.unreadMessages })}
                      data-testid="row-unread"
                    />
                  </Space>
                ),
              },
              { title: t("orderNo"), dataIndex: "platformOrderNo" },
              { title: t("type"), dataIndex: "type", render: (v: string) => t(`type.${v}`) },
              { title: t("reason"), dataIndex: "reason", render: (v: string) => t(`reason.${v}`) },
              { title: t("status"), dataIndex: "status", render: (v: string) => <StatusTag status={v} /> },
              ...queueColumns(t, details, phone ? undefined : { sort: sp.get("sort") ?? undefined }),
            ]}
          />
        )}
      </Loadable>
    </Space>
  );
}

export function Finance() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const refunds = useQuery({ queryKey: ["refunds"], queryFn: () => api<Page<Refund>>("GET", "/api/v1/refunds?limit=200") });
  const tb = useQuery({ queryKey: ["tb"], queryFn: () => api<TrialBalance>("GET", "/api/v1/ledger/trial-balance") });
  const confirm = useConfirm();
  const [confirming, setConfirming] = useState<Refund | null>(null);
  const [refForm] = Form.useForm();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["refunds"] });
    void qc.invalidateQueries({ queryKey: ["tb"] });
  };
  const act = (r: Refund, a: string) => {
    if (a === "confirm") return setConfirming(r);
    void confirm({
      title: t(`refundAction.${a}`, { defaultValue: t("action.other") }),
      content: t("refund.retryWhat", { amount: money(r.amount) }),
      run: () => api("POST", `/api/v1/refunds/${r.id}/actions/${a}`, {}),
      done: t("case.done", { action: t(`refundAction.${a}`, { defaultValue: t("action.other") }) }),
    }).then((ran) => ran && refresh());
  };
  return (
    <Row gutter={16}>
      <Modal
        open={Boolean(confirming)}
        title={t("refundAction.confirm")}
        onCancel={() => setConfirming(null)}
        onOk={() => refForm.submit()}
        okText={t("confirm.ok")}
        destroyOnHidden
      >
        <Typography.Paragraph>{t("refund.confirmWhat", { amount: money(confirming?.amount) })}</Typography.Paragraph>
        <Form
          form={refForm}
          layout="vertical"
          onFinish={async (v) => {
            try {
              await api("POST", `/api/v1/refunds/${confirming?.id}/actions/confirm`, { reference: v.reference });
              message.success(t("case.done", { action: t("refundAction.confirm") }));
              setConfirming(null);
              refresh();
            } catch (e) {
              reportError(refForm, message, e);
            }
          }}
        >
          <Form.Item name="reference" label={t("field.reference")} rules={[{ required: true, whitespace: true }]}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
      <Col xs={24}>
        <GatewayQueue />
      </Col>
      <Col xs={24} style={{ marginBottom: 16 }}>
        <Recoveries />
      </Col>
      <Col xs={24} lg={16}>
        <Card title={t("refunds")}>
          <Loadable q={refunds}>
            {(d) => (
              <Table
                rowKey="id"
                size="small"
                dataSource={d.items}
                columns={[
                  { title: t("type"), dataIndex: "kind", render: (v: string) => t(`refundKind.${v}`, { defaultValue: v }) },
                  { title: t("amount"), dataIndex: "amount", render: (v: number) => money(v) },
                  { title: t("method"), dataIndex: "method", render: (v: string) => t(`refundMethod.${v}`, { defaultValue: v }) },
                  { title: t("refund.route"), dataIndex: "route", render: (v: string[]) => <RouteNames route={v} /> },
                  {
                    title: t("status"),
                    dataIndex: "status",
                    render: (v: string) => (
                      <Tag color={v === "failed" ? "red" : v === "succeeded" ? "green" : "gold"} data-status={v}>
                        {t(`refundStatus.${v}`, { defaultValue: v })}
                      </Tag>
                    ),
                  },
                  {
                    title: "",
                    dataIndex: "allowedActions",
                    render: (acts: string[], r) =>
                      acts.map((a) => (
                        <Button key={a} size="small" onClick={() => act(r, a)} data-action={a}>
                          {t(`refundAction.${a}`, { defaultValue: t("action.other") })}
                        </Button>
                      )),
                  },
                ]}
              />
            )}
          </Loadable>
        </Card>
      </Col>
      <Col xs={24} lg={8}>
        <Card title={t("trialBalance")}>
          <Loadable q={tb}>
            {(d) => (
              <>
                <Tag color={d.balanced ? "green" : "red"}>{d.balanced ? t("balanced") : t("notBalanced")}</Tag>
                <List
                  size="small"
                  dataSource={d.accounts}
                  renderItem={(a) => (
                    <List.Item>
                      {t(`account.${a.account}`, { defaultValue: a.account })}：{money(a.balance)}
                    </List.Item>
                  )}
                />
              </>
            )}
          </Loadable>
        </Card>
      </Col>
    </Row>
  );
}

export function Suppliers() {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: ["suppliers"], queryFn: () => api<Page<Supplier>>("GET", "/api/v1/suppliers?limit=200") });
  const offers = useQuery({ queryKey: ["offers"], queryFn: () => api<Page<Offer>>("GET", "/api/v1/offers?limit=200") });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Loadable q={q}>
        {(d) => (
          <Table
            rowKey="id"
            size="small"
            dataSource={d.items}
            columns={[
              { title: t("suppliers"), dataIndex: "name" },
              { title: t("email"), dataIndex: "email" },
              { title: t("acceptsReturns"), render: (_: unknown, r) => (r.terms.acceptsReturns ? "✓" : "✗") },
              { title: t("channel.title"), render: (_: unknown, r) => <SupplierChannelCell supplierId={r.id} /> },
            ]}
          />
        )}
      </Loadable>
      <Loadable q={offers}>
        {(d) => (
          <Table
            rowKey="id"
            size="small"
            dataSource={d.items}
            columns={[
              { title: "SKU", dataIndex: "skuCode" },
              { title: t("cost"), dataIndex: "cost", render: (v: number) => money(v) },
              { title: t("stock"), dataIndex: "stock" },
              { title: t("priority"), dataIndex: "priority" },
              { title: t("offerLink.title"), render: (_: unknown, r) => <OfferLinkCell offer={r} /> },
            ]}
          />
        )}
      </Loadable>
    </Space>
  );
}

/** Users, shops (with a link to each shop's return policy) and API tokens; admins only. */
export function Settings() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [userForm] = Form.useForm();
  const [tokenForm] = Form.useForm();
  const [newToken, setNewToken] = useState<string | null>(null);
  const users = useQuery({ queryKey: ["users"], queryFn: () => api<Page<User>>("GET", "/api/v1/users?limit=200") });
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<Page<Shop>>("GET", "/api/v1/shops") });
  const tokens = useQuery({ queryKey: ["api-tokens"], queryFn: () => api<Page<ApiToken>>("GET", "/api/v1/api-tokens") });
  const suppliers = useQuery({ queryKey: ["suppliers"], queryFn: () => api<Page<Supplier>>("GET", "/api/v1/suppliers?limit=200") });
  const role = Form.useWatch("role", userForm);
  const confirm = useConfirm();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Card title={t("users")}>
        <Form
          form={userForm}
          layout="inline"
          style={{ marginBottom: 16, rowGap: 8 }}
          initialValues={{ role: "cs" }}
          onFinish={async (v) => {
            try {
              await api("POST", "/api/v1/users", v);
              message.success(t("saved"));
              userForm.resetFields();
              void qc.invalidateQueries({ queryKey: ["users"] });
            } catch (e) {
              reportError(userForm, message, e);
            }
          }}
        >
          <Form.Item name="email" rules={[{ required: true, type: "email" }]}>
            <Input placeholder={t("email")} />
          </Form.Item>
          <Form.Item name="name">
            <Input placeholder={t("name")} />
          </Form.Item>
          <Form.Item name="password" rules={[{ required: true, min: 10 }]}>
            <Input.Password placeholder={t("password")} autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="role" rules={[{ required: true }]}>
            <Select style={{ width: 120 }} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          {role === "supplier" && (
            <Form.Item name="supplierId" rules={[{ required: true }]}>
              <Select
                style={{ width: 180 }}
                placeholder={t("suppliers")}
                options={(suppliers.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
              />
            </Form.Item>
          )}
          <Button type="primary" htmlType="submit">
            {t("addUser")}
          </Button>
        </Form>
        <Loadable q={users} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: t("email"), dataIndex: "email" },
                { title: t("name"), dataIndex: "name" },
                { title: t("role"), dataIndex: "role", render: (r: string) => t(`role.${r}`, { defaultValue: r }) },
                { title: "", dataIndex: "active", render: (v: boolean) => (v ? "✓" : "✗") },
              ]}
            />
          )}
        </Loadable>
      </Card>
      <Card title={t("shops")}>
        <Loadable q={shops} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: t("name"), dataIndex: "name" },
                { title: t("platformCol"), dataIndex: "platform", render: (p: string) => t(`platform.${p}`, { defaultValue: p }) },
                { title: t("timezoneCol"), dataIndex: "timezone" },
                {
                  title: t("routeByScore"),
                  render: (_: unknown, s) => (
                    <Switch
                      size="small"
                      aria-label={`${t("routeByScore")} ${s.name}`}
                      checked={s.routeBySupplierScore}
                      onChange={async (on) => {
                        await api("PATCH", `/api/v1/shops/${s.id}`, { routeBySupplierScore: on });
                        message.success(t("saved"));
                        void qc.invalidateQueries({ queryKey: ["shops"] });
                      }}
                    />
                  ),
                },
                {
                  title: "",
                  render: (_: unknown, s) => (
                    <Button size="small" onClick={() => nav(`/policies?shop=${s.id}`)}>
                      {t("policy")}
                    </Button>
                  ),
                },
              ]}
            />
          )}
        </Loadable>
      </Card>
      <Card title={t("apiTokens")}>
        <Form
          form={tokenForm}
          layout="inline"
          style={{ marginBottom: 16 }}
          initialValues={{ role: "viewer" }}
          onFinish={async (v) => {
            try {
              const r = await api<ApiToken & { token: string }>("POST", "/api/v1/api-tokens", v);
              setNewToken(r.token);
              tokenForm.resetFields();
              void qc.invalidateQueries({ queryKey: ["api-tokens"] });
            } catch (e) {
              reportError(tokenForm, message, e);
            }
          }}
        >
          <Form.Item name="name" rules={[{ required: true }]}>
            <Input placeholder={t("name")} />
          </Form.Item>
          <Form.Item name="role">
            <Select style={{ width: 120 }} options={STAFF_ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          <Button htmlType="submit">{t("createToken")}</Button>
        </Form>
        {newToken && (
          <Alert
            type="success"
            showIcon
            closable
            onClose={() => setNewToken(null)}
            style={{ marginBottom: 16 }}
            message={t("tokenOnce")}
            description={
              <Typography.Text copyable code>
                {newToken}
              </Typography.Text>
            }
          />
        )}
        <Loadable q={tokens} empty={(d) => d.items.length === 0}>
          {(d) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={d.items}
              columns={[
                { title: t("name"), dataIndex: "name" },
                { title: t("role"), dataIndex: "role", render: (r: string) => t(`role.${r}`, { defaultValue: r }) },
                { title: "", dataIndex: "prefix", render: (v: string) => <code>{v}…</code> },
                { title: t("createdAt"), dataIndex: "createdAt", render: (v: string | null) => when(v) },
                {
                  title: "",
                  render: (_: unknown, r) =>
                    r.revokedAt ? (
                      <Tag>{t("revoked")}</Tag>
                    ) : (
                      <Button
                        size="small"
                        danger
                        onClick={() =>
                          void confirm({
                            title: t("revoke"),
                            content: t("token.revokeWhat", { name: r.name }),
                            danger: true,
                            run: () => api("POST", `/api/v1/api-tokens/${r.id}/actions/revoke`, {}),
                            done: t("revoked"),
                          }).then(() => qc.invalidateQueries({ queryKey: ["api-tokens"] }))
                        }
                      >
                        {t("revoke")}
                      </Button>
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
