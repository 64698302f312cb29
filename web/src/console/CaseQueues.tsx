import { useQuery } from "@tanstack/react-query";
import { Badge, Tabs, Tag, Tooltip, Typography } from "antd";
import i18n from "i18next";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { api, money, when } from "../api";

// The queues people work from: the case list's tabs with their counts, the customer, amount,
// assignee and SLA columns, and the menu's badge for new and overdue cases
// (GET /api/v1/case-queue/counts and /details, src/after-sales/case-queue.ts).

i18n.addResourceBundle(
  "zh-CN",
  "translation",
  {
    "queue.all": "全部",
    "queue.submitted": "待审核",
    "queue.info_requested": "待补充资料",
    "queue.awaiting_return": "待买家退货",
    "queue.return_in_transit": "待收货",
    "queue.received": "待验货",
    "queue.inspected": "待退款",
    "queue.refund_pending": "退款中",
    "queue.total": "共 {{count}} 条",
    "queue.customer": "客户",
    "queue.created": "创建时间",
    "queue.updated": "更新时间",
    "queue.sla": "时限",
    "queue.phone": "按手机号搜索",
    "queue.badge": "新售后单 {{new}}，已超时 {{overdue}}",
    "queue.left": "剩 {{time}}",
    "queue.late": "超时 {{time}}",
    "queue.tabs": "售后单队列",
    "refundQueue.search": "售后单号、订单号或手机号",
    "refundQueue.inspected": "验货时间",
    "wh.bulkReceive": "批量签收",
    "wh.bulkReceiveWhat": "签收选中的 {{count}} 个退货包裹；买家会收到通知。",
    "wh.bulkReceived": "已签收 {{ok}} 个，未成功 {{failed}} 个",
  },
  true,
  false,
);
i18n.addResourceBundle(
  "en",
  "translation",
  {
    "queue.all": "All",
    "queue.submitted": "To review",
    "queue.info_requested": "Waiting for info",
    "queue.awaiting_return": "Awaiting return",
    "queue.return_in_transit": "To receive",
    "queue.received": "To inspect",
    "queue.inspected": "To refund",
    "queue.refund_pending": "Refunding",
    "queue.total": "{{count}} in all",
    "queue.customer": "Customer",
    "queue.created": "Created",
    "queue.updated": "Updated",
    "queue.sla": "SLA",
    "queue.phone": "Search by phone",
    "queue.badge": "{{new}} new, {{overdue}} overdue",
    "queue.left": "{{time}} left",
    "queue.late": "{{time}} late",
    "queue.tabs": "Case queues",
    "refundQueue.search": "Case number, order number or phone",
    "refundQueue.inspected": "Inspected",
    "wh.bulkReceive": "Receive selected",
    "wh.bulkReceiveWhat": "Receive the {{count}} selected return parcels; the customers are told.",
    "wh.bulkReceived": "{{ok}} received, {{failed}} not",
  },
  true,
  false,
);

/** The tabs, in the order the work moves. */
export const QUEUES = ["submitted", "info_requested", "awaiting_return", "return_in_transit", "received", "inspected", "refund_pending"];

type Counts = { byStatus: Record<string, number>; total: number; new: number; overdue: number };
export const useCaseCounts = (refetchInterval?: number) =>
  useQuery({
    queryKey: ["cases", "counts"],
    queryFn: () => api<Counts>("GET", "/api/v1/case-queue/counts"),
    refetchInterval,
  });

/** Status tabs with how many cases wait in each; the active tab is the list's status filter. */
export function QueueTabs({ status, found, onChange }: { status?: string; found?: number; onChange: (status?: string) => void }) {
  const { t } = useTranslation();
  const counts = useCaseCounts().data;
  const count = (n?: number) => <Badge count={n ?? 0} showZero overflowCount={999} color={n ? "#a8071a" : "#595959"} />;
  // A phone search shows the customer's cases in every status: no tab is chosen then.
  const active = found !== undefined ? undefined : status && QUEUES.includes(status) ? status : status ? undefined : "all";
  const total = found ?? (status ? (counts?.byStatus[status] ?? 0) : (counts?.total ?? 0));
  return (
    <div data-testid="queue-tabs">
      <Tabs
        aria-label={t("queue.tabs")}
        activeKey={active}
        onChange={(k) => onChange(k === "all" ? undefined : k)}
        items={[
          {
            key: "all",
            label: (
              <span data-queue="all">
                {t("queue.all")} {count(counts?.total)}
              </span>
            ),
          },
          ...QUEUES.map((s) => ({
            key: s,
            label: (
              <span data-queue={s}>
                {t(`queue.${s}`)} {count(counts?.byStatus[s])}
              </span>
            ),
          })),
        ]}
      />
      <Typography.Text data-testid="queue-total">{t("queue.total", { count: total })}</Typography.Text>
    </div>
  );
}

/** The menu's badge on 售后单: cases nobody has looked at yet and cases past their deadline. */
export function CaseQueueBadge({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const c = useCaseCounts(30_000).data;
  const n = (c?.new ?? 0) + (c?.overdue ?? 0);
  return (
    <Tooltip title={c ? t("queue.badge", { new: c.new, overdue: c.overdue }) : undefined}>
      <Badge count={n} size="small" offset={[8, 0]} color={c?.overdue ? "#a8071a" : "#ad4e00"} data-testid="cases-badge">
        {children}
      </Badge>
    </Tooltip>
  );
}

export type Details = {
  id: string;
  customer: { name: string | null; phone: string | null };
  address: string | null;
  channel: string;
  description: string;
  returnShipment: { carrier: string | null; trackingNo: string } | null;
  amount: number;
  currency: string;
  assignee: { name: string } | null;
};
/** The customer, amount and assignee of the cases on the page, by case id. */
export function useCaseDetails(ids: string[]) {
  const key = ids.join(",");
  const q = useQuery({
    queryKey: ["cases", "details", key],
    queryFn: () => api<{ items: Details[] }>("GET", `/api/v1/case-queue/details?ids=${key}`),
    enabled: ids.length > 0,
  });
  return new Map((q.data?.items ?? []).map((d) => [d.id, d]));
}

const hours = (ms: number) => {
  const h = Math.round(Math.abs(ms) / 3600_000);
  return h >= 48 ? `${Math.round(h / 24)}d` : `${h}h`;
};
/** The time left on the case's current deadline: red once passed, orange within a day, green otherwise. */
export function SlaCountdown({ at, timeZone }: { at?: string; timeZone?: string }) {
  const { t } = useTranslation();
  if (!at) return <>—</>;
  const ms = new Date(at).getTime() - Date.now();
  const color = ms < 0 ? "red" : ms < 86400_000 ? "orange" : "green";
  return (
    <Tag color={color} title={when(at, timeZone)} data-sla={color}>
      {ms < 0 ? t("queue.late", { time: hours(ms) }) : t("queue.left", { time: hours(ms) })}
    </Tag>
  );
}

type Row = { id: string; createdAt: string; updatedAt?: string; shopTimezone?: string; deadline?: { at: string } | null };
/** The fields the API sorts the case list by (GET /api/v1/cases?sort=…, src/after-sales/case.list.ts). */
export type SortField = "createdAt" | "updatedAt" | "amount" | "deadline";
/** A `sort` parameter (`-createdAt`) as the table's sort order of one column. */
const orderOf = (sort: string | undefined, field: SortField) =>
  sort === field ? ("ascend" as const) : sort === `-${field}` ? ("descend" as const) : null;
/** The table's sorter as the API's `sort` parameter, or undefined when the column's sort was cleared. */
export function sortParam(sorter: unknown): string | undefined {
  const s = (Array.isArray(sorter) ? sorter[0] : sorter) as { columnKey?: string; order?: "ascend" | "descend" | null } | undefined;
  if (!s?.order || !s.columnKey) return undefined;
  return s.order === "descend" ? `-${s.columnKey}` : String(s.columnKey);
}

/**
 * The queue's columns: customer (name and phone), amount, created, updated, assignee and SLA.
 * With `server`, amount, created, updated and SLA sort through the API (the table reports the
 * click and the list asks again); without it (a phone search's results), on the page.
 */
export function queueColumns(t: (k: string) => string, details: Map<string, Details>, server?: { sort?: string }) {
  const d = (r: Row) => details.get(r.id);
  const time = (s?: string | null) => (s ? new Date(s).getTime() : Number.POSITIVE_INFINITY);
  const sorting = (field: SortField, local: (a: Row, b: Row) => number) =>
    server
      ? {
          key: field,
          sorter: true,
          sortOrder: orderOf(server.sort, field),
          sortDirections: ["ascend", "descend"] as ("ascend" | "descend")[],
        }
      : { key: field, sorter: local };
  return [
    {
      title: t("queue.customer"),
      key: "customer",
      render: (_: unknown, r: Row) => (
        <span>
          {d(r)?.customer.name ?? "—"}
          {d(r)?.customer.phone && <div style={{ color: "#595959" }}>{d(r)?.customer.phone}</div>}
        </span>
      ),
    },
    {
      title: t("amount"),
      align: "right" as const,
      ...sorting("amount", (a, b) => (d(a)?.amount ?? 0) - (d(b)?.amount ?? 0)),
      render: (_: unknown, r: Row) => (d(r) ? money(d(r)?.amount, d(r)?.currency) : "—"),
    },
    {
      title: t("queue.created"),
      dataIndex: "createdAt",
      ...sorting("createdAt", (a, b) => time(a.createdAt) - time(b.createdAt)),
      render: (v: string, r: Row) => <span data-testid="case-created">{when(v, r.shopTimezone)}</span>,
    },
    {
      title: t("queue.updated"),
      dataIndex: "updatedAt",
      ...sorting("updatedAt", (a, b) => time(a.updatedAt) - time(b.updatedAt)),
      render: (v: string, r: Row) => when(v, r.shopTimezone),
    },
    { title: t("assignee"), key: "assignee", render: (_: unknown, r: Row) => d(r)?.assignee?.name ?? t("unassigned") },
    {
      title: t("queue.sla"),
      ...sorting("deadline", (a, b) => time(a.deadline?.at) - time(b.deadline?.at)),
      render: (_: unknown, r: Row) => <SlaCountdown at={r.deadline?.at} timeZone={r.shopTimezone} />,
    },
  ];
}
