// The analytics screens: return and refund rates by any grouping, the reasons Pareto, timings,
// supplier scorecards, and after-sales cost with satisfaction. Filters live in the URL so that a
// view can be shared; every chart opens the cases behind a bar, every table exports as CSV.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Card, Col, DatePicker, Row, Select, Space, Statistic, Table, Tabs, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, money } from "../api";
import { Loadable, useMe } from "../shared";
import type { Page, Shop } from "../types";
import type { Overview, ReasonsReport, ReturnsReport, Rollups, SuppliersReport, TimingsReport, TimingsRow } from "../types/analytics";
import FirstResponse from "./AnalyticsFirstResponse";
import { useSupplierRecovery } from "./SupplierChannels";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const GROUPS = ["day", "week", "month", "sku", "supplier", "shop", "reason", "type"] as const;
const TABS = ["returns", "reasons", "timings", "firstResponse", "suppliers", "cost"] as const;
type Drill = Record<string, string>;

/** The server's default range (the last 30 days up to today in Asia/Shanghai), shown while none is chosen. */
function defaultRange() {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
  const from = new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  return { from, to: today };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)} %`);
const hrs = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(1));

/** An ECharts chart; a click on a data point calls `onPick` with its index. */
export function Chart({
  option,
  onPick,
  testId,
  height = 280,
}: {
  option: echarts.EChartsCoreOption;
  onPick?: (i: number) => void;
  testId: string;
  height?: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current);
    chart.setOption(option);
    if (onPick) chart.on("click", (p) => onPick(p.dataIndex));
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [option, onPick]);
  return <div ref={ref} style={{ height }} data-testid={testId} />;
}

/** Report filters from the URL: from, to, shopId, groupBy, tab. */
function useFilters() {
  const [sp, setSp] = useSearchParams();
  const setMany = (values: Record<string, string | undefined>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(values)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setSp(next, { replace: true });
  };
  const set = (k: string, v: string | undefined) => setMany({ [k]: v });
  const query = new URLSearchParams();
  for (const k of ["from", "to", "shopId"]) {
    const v = sp.get(k);
    if (v) query.set(k, v);
  }
  return { sp, set, setMany, query: query.toString() };
}

export default function Reports() {
  const { t } = useTranslation();
  const { sp, set, setMany, query } = useFilters();
  const me = useMe();
  const qc = useQueryClient();
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<Page<Shop>>("GET", "/api/v1/shops") });
  const rollups = useQuery({ queryKey: ["analytics-rollups"], queryFn: () => api<Rollups>("GET", "/api/v1/analytics/rollups") });
  const refresh = useMutation({
    mutationFn: () => api("POST", "/api/v1/analytics/actions/refresh", {}),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["analytics-rollups"] }),
  });
  const tab = (sp.get("tab") as (typeof TABS)[number]) ?? "returns";
  const defaults = defaultRange();
  const through = rollups.data?.items?.find((x) => x.timeZone === "Asia/Shanghai")?.through;
  return (
    <Space orientation="vertical" style={{ width: "100%" }} size="middle">
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t("an.title")}
      </Typography.Title>
      <Space wrap>
        <DatePicker.RangePicker
          aria-label={t("an.range")}
          allowClear={false}
          value={[dayjs(sp.get("from") ?? defaults.from), dayjs(sp.get("to") ?? defaults.to)]}
          onChange={(v) => {
            if (v?.[0] && v[1]) setMany({ from: v[0].format("YYYY-MM-DD"), to: v[1].format("YYYY-MM-DD") });
          }}
          presets={[
            { label: t("an.last7"), value: [dayjs(defaults.to).subtract(6, "day"), dayjs(defaults.to)] },
            { label: t("an.last30"), value: [dayjs(defaults.to).subtract(29, "day"), dayjs(defaults.to)] },
            { label: t("an.thisMonth"), value: [dayjs(defaults.to).startOf("month"), dayjs(defaults.to)] },
            {
              label: t("an.lastMonth"),
              value: [dayjs(defaults.to).subtract(1, "month").startOf("month"), dayjs(defaults.to).subtract(1, "month").endOf("month")],
            },
          ]}
          data-testid="analytics-range"
        />
        <Select
          allowClear
          placeholder={t("an.allShops")}
          style={{ width: 180 }}
          value={sp.get("shopId") ?? undefined}
          onChange={(v) => set("shopId", v)}
          options={(shops.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
        />
        <Typography.Text type="secondary" data-testid="rollup-status">
          {through ? t("an.rolledUpThrough", { date: through }) : t("an.allLive")}
        </Typography.Text>
        {["admin", "finance"].includes(me.data?.role ?? "") && (
          <Button size="small" loading={refresh.isPending} onClick={() => refresh.mutate()}>
            {t("an.refresh")}
          </Button>
        )}
      </Space>
      <Tabs
        activeKey={tab}
        onChange={(k) => set("tab", k)}
        items={TABS.map((k) => ({ key: k, label: t(`an.tab.${k}`) }))}
        destroyOnHidden
      />
      {tab === "returns" && <Returns query={query} groupBy={sp.get("groupBy") ?? "day"} setGroupBy={(g) => set("groupBy", g)} />}
      {tab === "reasons" && <Reasons query={query} />}
      {tab === "timings" && <Timings query={query} groupBy={sp.get("groupBy") ?? undefined} setGroupBy={(g) => set("groupBy", g)} />}
      {tab === "firstResponse" && (
        <FirstResponse query={query} groupBy={sp.get("groupBy") ?? undefined} setGroupBy={(g) => set("groupBy", g)} />
      )}
      {tab === "suppliers" && <Suppliers query={query} />}
      {tab === "cost" && <Cost query={query} />}
    </Space>
  );
}

function GroupSelect({ value, onChange, allowClear }: { value?: string; onChange: (v: string | undefined) => void; allowClear?: boolean }) {
  const { t } = useTranslation();
  return (
    <Select
      aria-label={t("an.groupBy")}
      data-testid="group-by"
      allowClear={allowClear}
      placeholder={t("an.groupBy")}
      style={{ width: 160 }}
      value={value}
      onChange={onChange}
      options={GROUPS.map((g) => ({ value: g, label: t(`an.group.${g}`) }))}
    />
  );
}

/** A row's label: reasons and types translated, everything else as the API names it. */
function useLabel(groupBy: string | undefined) {
  const { t } = useTranslation();
  return (row: { key: string | null; label: string }) =>
    groupBy === "reason" || groupBy === "type" ? t(`${groupBy}.${row.key}`) : row.label || t("an.none");
}

function useDrill() {
  const nav = useNavigate();
  return (d: Drill) => void nav(`/cases?${new URLSearchParams(d)}`);
}

function CsvButton({ path, query }: { path: string; query: string }) {
  const { t } = useTranslation();
  return <Button href={`/api/v1/analytics/${path}?${query}${query ? "&" : ""}format=csv`}>{t("exportCsv")}</Button>;
}

function Returns({ query, groupBy, setGroupBy }: { query: string; groupBy: string; setGroupBy: (g: string | undefined) => void }) {
  const { t } = useTranslation();
  const drill = useDrill();
  const label = useLabel(groupBy);
  const q = useQuery({
    queryKey: ["analytics-returns", query, groupBy],
    queryFn: () => api<ReturnsReport>("GET", `/api/v1/analytics/returns?${query}&groupBy=${groupBy}`),
  });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space>
        <GroupSelect value={groupBy} onChange={(g) => setGroupBy(g ?? "day")} />
        <CsvButton path="returns" query={`${query}&groupBy=${groupBy}`} />
        <Typography.Text type="secondary">{t("an.clickToDrill")}</Typography.Text>
      </Space>
      <Loadable q={q}>
        {(d) => {
          const rows = d.items;
          const top = ["day", "week", "month"].includes(groupBy) ? rows : rows.slice(0, 20);
          return (
            <>
              <Card>
                <Chart
                  testId="returns-chart"
                  onPick={(i) => drill(top[i].drillDown)}
                  option={{
                    tooltip: { trigger: "axis" },
                    legend: { data: [t("an.cases"), t("an.returnRate")] },
                    grid: { left: 50, right: 50, top: 40, bottom: 70 },
                    xAxis: { type: "category", data: top.map(label), axisLabel: { rotate: 30 } },
                    yAxis: [
                      { type: "value", minInterval: 1 },
                      { type: "value", axisLabel: { formatter: (v: number) => `${(v * 100).toFixed(0)}%` } },
                    ],
                    series: [
                      { name: t("an.cases"), type: "bar", data: top.map((r) => r.cases), itemStyle: { color: "#fa8c16" } },
                      { name: t("an.returnRate"), type: "line", yAxisIndex: 1, data: top.map((r) => r.returnRate ?? 0) },
                    ],
                  }}
                />
              </Card>
              <Table
                size="small"
                rowKey={(r) => String(r.key)}
                dataSource={rows}
                pagination={{ pageSize: 50 }}
                onRow={(r) => ({ onDoubleClick: () => drill(r.drillDown) })}
                columns={[
                  { title: t(`an.group.${groupBy}`), render: (_, r) => <a onClick={() => drill(r.drillDown)}>{label(r)}</a> },
                  { title: t("an.orders"), dataIndex: "orders", align: "right" },
                  { title: t("an.sales"), dataIndex: "sales", align: "right", render: (v) => money(v) },
                  { title: t("an.cases"), dataIndex: "cases", align: "right" },
                  { title: t("refunded"), dataIndex: "refunded", align: "right", render: (v) => money(v) },
                  { title: t("an.returnRate"), dataIndex: "returnRate", align: "right", render: pct },
                  { title: t("an.refundRate"), dataIndex: "refundRate", align: "right", render: pct },
                ]}
              />
            </>
          );
        }}
      </Loadable>
    </Space>
  );
}

function Reasons({ query }: { query: string }) {
  const { t } = useTranslation();
  const drill = useDrill();
  const label = useLabel("reason");
  const q = useQuery({
    queryKey: ["analytics-reasons", query],
    queryFn: () => api<ReasonsReport>("GET", `/api/v1/analytics/reasons?${query}`),
  });
  return (
    <Loadable q={q}>
      {(d) => {
        const rows = d.items;
        return (
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Space>
              <Typography.Text>{t("an.totalCases", { count: d.total })}</Typography.Text>
              <CsvButton path="reasons" query={query} />
            </Space>
            <Card>
              <Chart
                testId="pareto-chart"
                onPick={(i) => drill(rows[i].drillDown)}
                option={{
                  tooltip: { trigger: "axis" },
                  legend: { data: [t("an.cases"), t("an.cumulative")] },
                  grid: { left: 50, right: 50, top: 40, bottom: 70 },
                  xAxis: { type: "category", data: rows.map(label), axisLabel: { rotate: 30 } },
                  yAxis: [
                    { type: "value", minInterval: 1 },
                    { type: "value", max: 1, axisLabel: { formatter: (v: number) => `${v * 100}%` } },
                  ],
                  series: [
                    { name: t("an.cases"), type: "bar", data: rows.map((r) => r.count), itemStyle: { color: "#1677ff" } },
                    { name: t("an.cumulative"), type: "line", yAxisIndex: 1, data: rows.map((r) => r.cumulativeShare) },
                  ],
                }}
              />
            </Card>
            <Table
              size="small"
              rowKey={(r) => String(r.key)}
              dataSource={rows}
              pagination={false}
              columns={[
                { title: t("reason"), render: (_, r) => <a onClick={() => drill(r.drillDown)}>{label(r)}</a> },
                { title: t("an.cases"), dataIndex: "count", align: "right" },
                { title: t("an.share"), dataIndex: "share", align: "right", render: pct },
                { title: t("an.cumulative"), dataIndex: "cumulativeShare", align: "right", render: pct },
              ]}
            />
          </Space>
        );
      }}
    </Loadable>
  );
}

const STAGES = ["firstResponse", "approval", "refund", "closed"] as const;

function Timings({ query, groupBy, setGroupBy }: { query: string; groupBy?: string; setGroupBy: (g: string | undefined) => void }) {
  const { t } = useTranslation();
  const drill = useDrill();
  const label = useLabel(groupBy);
  const q = useQuery({
    queryKey: ["analytics-timings", query, groupBy],
    queryFn: () => api<TimingsReport>("GET", `/api/v1/analytics/timings?${query}${groupBy ? `&groupBy=${groupBy}` : ""}`),
  });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space>
        <GroupSelect value={groupBy} onChange={setGroupBy} allowClear />
        <CsvButton path="timings" query={`${query}${groupBy ? `&groupBy=${groupBy}` : ""}`} />
      </Space>
      <Loadable q={q} empty={(d) => d.items.length === 0}>
        {(d) => {
          const rows = d.items;
          const first = rows[0];
          return (
            <>
              {!groupBy && first && (
                <Row gutter={16}>
                  {STAGES.map((s) => (
                    <Col xs={12} lg={4} key={s}>
                      <Card size="small">
                        <Statistic title={`${t(`an.stage.${s}`)} · ${t("an.median")}`} value={hrs(first[s].medianHours)} suffix="h" />
                        <Typography.Text type="secondary">
                          P90 {hrs(first[s].p90Hours)} h · {first[s].count}
                        </Typography.Text>
                      </Card>
                    </Col>
                  ))}
                  <Col xs={12} lg={8}>
                    <Card size="small">
                      <Statistic title={t("an.slaCompliance")} value={pct(first.sla.compliance)} />
                      <Typography.Text type="secondary">{String(t("an.slaDetail", first.sla))}</Typography.Text>
                    </Card>
                  </Col>
                </Row>
              )}
              <Card>
                <Chart
                  testId="timings-chart"
                  onPick={(i) => drill(rows[Math.floor(i)].drillDown)}
                  option={{
                    tooltip: { trigger: "axis" },
                    legend: { data: STAGES.map((s) => t(`an.stage.${s}`)) },
                    grid: { left: 50, right: 20, top: 40, bottom: 70 },
                    xAxis: { type: "category", data: rows.map((r) => (groupBy ? label(r) : t("an.allCases"))), axisLabel: { rotate: 30 } },
                    yAxis: { type: "value", name: t("an.medianHours") },
                    series: STAGES.map((s) => ({ name: t(`an.stage.${s}`), type: "bar", data: rows.map((r) => r[s].medianHours ?? 0) })),
                  }}
                />
              </Card>
              <Table
                size="small"
                rowKey={(r) => String(r.key)}
                dataSource={rows}
                pagination={false}
                columns={[
                  {
                    title: groupBy ? t(`an.group.${groupBy}`) : "",
                    render: (_, r) => <a onClick={() => drill(r.drillDown)}>{groupBy ? label(r) : t("an.allCases")}</a>,
                  },
                  { title: t("an.cases"), dataIndex: "cases", align: "right" },
                  ...STAGES.map((s) => ({
                    title: `${t(`an.stage.${s}`)} (h)`,
                    align: "right" as const,
                    render: (_: unknown, r: TimingsRow) => `${hrs(r[s].medianHours)} / ${hrs(r[s].p90Hours)}`,
                  })),
                  { title: t("an.slaCompliance"), align: "right", render: (_, r) => pct(r.sla.compliance) },
                ]}
              />
              <Typography.Text type="secondary">{t("an.timingsNote")}</Typography.Text>
            </>
          );
        }}
      </Loadable>
    </Space>
  );
}

function Suppliers({ query }: { query: string }) {
  const { t } = useTranslation();
  const drill = useDrill();
  const q = useQuery({
    queryKey: ["analytics-suppliers", query],
    queryFn: () => api<SuppliersReport>("GET", `/api/v1/analytics/suppliers?${query}`),
  });
  const recovery = useSupplierRecovery();
  return (
    <Loadable q={q} empty={(d) => d.items.length === 0}>
      {(d) => {
        const rows = [...d.items].sort((a, b) => a.score - b.score);
        return (
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Space>
              <CsvButton path="suppliers" query={query} />
              <Typography.Text type="secondary">{t("an.scoreNote")}</Typography.Text>
            </Space>
            <Card>
              <Chart
                testId="suppliers-chart"
                onPick={(i) => drill(rows[i].drillDown.all)}
                option={{
                  tooltip: { trigger: "axis" },
                  legend: { data: [t("an.costCaused"), t("an.recovered")] },
                  grid: { left: 70, right: 20, top: 40, bottom: 70 },
                  xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: 30 } },
                  yAxis: { type: "value", axisLabel: { formatter: (v: number) => `¥${v / 100}` } },
                  series: [
                    { name: t("an.costCaused"), type: "bar", data: rows.map((r) => r.costCaused), itemStyle: { color: "#f5222d" } },
                    { name: t("an.recovered"), type: "bar", data: rows.map((r) => r.claims.recovered), itemStyle: { color: "#52c41a" } },
                  ],
                }}
              />
            </Card>
            <Table
              size="small"
              rowKey="supplierId"
              dataSource={rows}
              pagination={false}
              scroll={{ x: true }}
              columns={[
                { title: t("suppliers"), render: (_, r) => <a onClick={() => drill(r.drillDown.all)}>{r.name}</a> },
                {
                  title: t("an.score"),
                  dataIndex: "score",
                  align: "right",
                  render: (v: number) => <Tag color={v >= 0.8 ? "green" : v >= 0.6 ? "gold" : "red"}>{v.toFixed(2)}</Tag>,
                },
                { title: t("supplierOrders"), dataIndex: "supplierOrders", align: "right" },
                {
                  title: t("an.defectRate"),
                  align: "right",
                  render: (_, r) => <a onClick={() => drill(r.drillDown.defects)}>{`${pct(r.defectRate)} (${r.defectCases})`}</a>,
                },
                {
                  title: t("an.wrongItemRate"),
                  align: "right",
                  render: (_, r) => <a onClick={() => drill(r.drillDown.wrongItem)}>{`${pct(r.wrongItemRate)} (${r.wrongItemCases})`}</a>,
                },
                { title: t("an.lateShipRate"), align: "right", render: (_, r) => `${pct(r.lateShipRate)} (${r.lateShipments})` },
                { title: t("an.claimAcceptance"), align: "right", render: (_, r) => pct(r.claims.acceptanceRate) },
                { title: t("an.recovered"), align: "right", render: (_, r) => `${money(r.claims.recovered)} / ${money(r.claims.claimed)}` },
                {
                  title: t("recovery.rate"),
                  align: "right",
                  render: (_, r) => {
                    const x = recovery.get(r.supplierId);
                    return x?.recoveryRate == null ? "—" : pct(x.recoveryRate);
                  },
                },
                {
                  title: t("recovery.daysMedian"),
                  align: "right",
                  render: (_, r) => recovery.get(r.supplierId)?.medianDaysToRecover ?? "—",
                },
                { title: t("an.costCaused"), dataIndex: "costCaused", align: "right", render: (v) => money(v) },
                { title: t("an.netCost"), dataIndex: "netCost", align: "right", render: (v) => money(v) },
              ]}
            />
          </Space>
        );
      }}
    </Loadable>
  );
}

function Cost({ query }: { query: string }) {
  const { t } = useTranslation();
  const drill = useDrill();
  const q = useQuery({
    queryKey: ["analytics-overview", query],
    queryFn: () => api<Overview>("GET", `/api/v1/analytics/overview?${query}`),
  });
  return (
    <Loadable q={q}>
      {(d) => (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <CsvButton path="overview" query={query} />
          <Row gutter={16}>
            {(
              [
                ["an.costRefunds", d.cost.refunds],
                ["an.freight", d.cost.freight],
                ["an.compensation", d.cost.compensation],
                ["an.recovered", d.cost.recoveredFromSuppliers],
                ["an.netCost", d.cost.net],
              ] as [string, number][]
            ).map(([k, v]) => (
              <Col xs={12} lg={4} key={k}>
                <Card size="small">
                  <Statistic title={t(k)} value={money(v)} />
                </Card>
              </Col>
            ))}
          </Row>
          <Row gutter={16}>
            <Col xs={24} lg={12}>
              <Card title={t("an.costSplit")}>
                <Chart
                  testId="cost-chart"
                  option={{
                    tooltip: { trigger: "item", valueFormatter: (v: number) => money(v) },
                    series: [
                      {
                        type: "pie",
                        radius: ["40%", "70%"],
                        data: [
                          { name: t("an.costRefunds"), value: d.cost.refunds },
                          { name: t("an.freight"), value: d.cost.freight },
                          { name: t("an.compensation"), value: d.cost.compensation },
                        ],
                      },
                    ],
                  }}
                />
              </Card>
            </Col>
            <Col xs={24} lg={12}>
              <Card
                title={`${t("an.csat")} · ${t("an.csatAverage")} ${d.csat.average ?? "—"} · ${t("an.responses", { count: d.csat.responses })}`}
              >
                <Chart
                  testId="csat-chart"
                  option={{
                    tooltip: {},
                    grid: { left: 40, right: 10, top: 10, bottom: 30 },
                    xAxis: { type: "category", data: d.csat.distribution.map((x) => "★".repeat(x.score)) },
                    yAxis: { type: "value", minInterval: 1 },
                    series: [{ type: "bar", data: d.csat.distribution.map((x) => x.count), itemStyle: { color: "#faad14" } }],
                  }}
                />
              </Card>
            </Col>
          </Row>
          <Row gutter={16}>
            <Col xs={12} lg={6}>
              <Card size="small">
                <Statistic title={t("an.returnRate")} value={pct(d.returnRate)} />
              </Card>
            </Col>
            <Col xs={12} lg={6}>
              <Card size="small">
                <Statistic title={t("an.refundRate")} value={pct(d.refundRate)} />
              </Card>
            </Col>
            <Col xs={12} lg={6}>
              <Card size="small" hoverable onClick={() => drill(d.overdue.drillDown)}>
                <Statistic title={t("overdue")} value={d.overdue.count} />
              </Card>
            </Col>
          </Row>
        </Space>
      )}
    </Loadable>
  );
}
