// The analytics screen's first-response tab: how long customers' messages wait for a staff reply,
// against the policy's first-response SLA, for the range and per day, week or month; CSV like the
// other reports.
import { useQuery } from "@tanstack/react-query";
import { Button, Card, Col, Row, Select, Space, Statistic, Table, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api } from "../api";
import { Loadable } from "../shared";
import { Chart } from "./Reports";

const PERIODS = ["day", "week", "month"] as const;
type Period = (typeof PERIODS)[number];

interface Figures {
  customerMessages: number;
  answered: number;
  medianHours: number | null;
  p90Hours: number | null;
  sla: { due: number; onTime: number; breached: number; compliance: number | null };
  waiting: number;
  waitingOverdue: number;
}
interface Report extends Figures {
  items: (Figures & { period: string })[];
}

const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)} %`);
const hrs = (v: number | null) => (v === null ? "—" : v.toFixed(1));

export default function FirstResponse({
  query,
  groupBy,
  setGroupBy,
}: {
  query: string;
  groupBy?: string;
  setGroupBy: (g?: string) => void;
}) {
  const { t } = useTranslation();
  const nav = useNavigate();
  const period: Period = PERIODS.includes(groupBy as Period) ? (groupBy as Period) : "day";
  const params = `${query}${query ? "&" : ""}groupBy=${period}`;
  const q = useQuery({
    queryKey: ["analytics-first-response", params],
    queryFn: () => api<Report>("GET", `/api/v1/analytics/first-response?${params}`),
  });
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space wrap>
        <Select
          aria-label={t("an.groupBy")}
          data-testid="fr-group-by"
          style={{ width: 120 }}
          value={period}
          onChange={(g) => setGroupBy(g)}
          options={PERIODS.map((g) => ({ value: g, label: t(`an.group.${g}`) }))}
        />
        <Button href={`/api/v1/analytics/first-response?${params}&format=csv`} data-testid="fr-csv">
          {t("exportCsv")}
        </Button>
      </Space>
      <Loadable q={q}>
        {(d) => (
          <>
            <Row gutter={[16, 16]} data-testid="fr-figures">
              <Col xs={12} lg={4}>
                <Card size="small">
                  <Statistic title={t("an.fr.messages")} value={d.customerMessages} />
                  <Typography.Text type="secondary">{t("an.fr.answeredCount", { count: d.answered })}</Typography.Text>
                </Card>
              </Col>
              <Col xs={12} lg={4}>
                <Card size="small">
                  <Statistic title={`${t("an.stage.firstResponse")} · ${t("an.median")}`} value={hrs(d.medianHours)} suffix="h" />
                  <Typography.Text type="secondary">P90 {hrs(d.p90Hours)} h</Typography.Text>
                </Card>
              </Col>
              <Col xs={12} lg={8}>
                <Card size="small">
                  <Statistic title={t("an.slaCompliance")} value={pct(d.sla.compliance)} />
                  <Typography.Text type="secondary">{String(t("an.slaDetail", d.sla))}</Typography.Text>
                </Card>
              </Col>
              <Col xs={12} lg={8}>
                <Card size="small" hoverable onClick={() => nav("/cases?overdue=true")} data-testid="fr-waiting">
                  <Statistic
                    title={t("an.fr.waiting")}
                    value={d.waiting}
                    styles={{ content: { color: d.waitingOverdue ? "#cf1322" : undefined } }}
                  />
                  <Typography.Text type="secondary">{t("an.fr.waitingOverdue", { count: d.waitingOverdue })}</Typography.Text>
                </Card>
              </Col>
            </Row>
            <Card>
              <Chart
                testId="first-response-chart"
                option={{
                  tooltip: { trigger: "axis" },
                  legend: { data: [t("an.fr.messages"), t("an.fr.late"), t("an.medianHours")] },
                  grid: { left: 50, right: 50, top: 40, bottom: 70 },
                  xAxis: { type: "category", data: d.items.map((r) => r.period), axisLabel: { rotate: 30 } },
                  yAxis: [
                    { type: "value", minInterval: 1 },
                    { type: "value", name: t("an.medianHours") },
                  ],
                  series: [
                    {
                      name: t("an.fr.messages"),
                      type: "bar",
                      data: d.items.map((r) => r.customerMessages),
                      itemStyle: { color: "#1677ff" },
                    },
                    { name: t("an.fr.late"), type: "bar", data: d.items.map((r) => r.sla.breached), itemStyle: { color: "#f5222d" } },
                    { name: t("an.medianHours"), type: "line", yAxisIndex: 1, data: d.items.map((r) => r.medianHours) },
                  ],
                }}
              />
            </Card>
            <Table
              size="small"
              rowKey="period"
              data-testid="fr-table"
              dataSource={d.items}
              pagination={{ pageSize: 50, hideOnSinglePage: true }}
              scroll={{ x: true }}
              columns={[
                { title: t(`an.group.${period}`), dataIndex: "period" },
                { title: t("an.fr.messages"), dataIndex: "customerMessages", align: "right" },
                { title: t("an.fr.answered"), dataIndex: "answered", align: "right" },
                {
                  title: `${t("an.stage.firstResponse")} (h)`,
                  align: "right",
                  render: (_, r) => `${hrs(r.medianHours)} / ${hrs(r.p90Hours)}`,
                },
                { title: t("an.slaCompliance"), align: "right", render: (_, r) => pct(r.sla.compliance) },
                { title: t("an.fr.late"), align: "right", render: (_, r) => r.sla.breached },
                { title: t("an.fr.waiting"), align: "right", render: (_, r) => `${r.waiting} (${r.waitingOverdue})` },
              ]}
            />
            <Typography.Text type="secondary">{t("an.fr.note")}</Typography.Text>
          </>
        )}
      </Loadable>
    </Space>
  );
}
