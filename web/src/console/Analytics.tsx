import { useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Statistic } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { api, money } from "../api";
import { Loadable } from "../shared";
import type { Overview } from "../types/analytics";
import { Chart } from "./Reports";

/** The dashboard's analytics: the last 30 days' rates and refunds, this month's top reasons; a bar opens its cases. */
export default function AnalyticsPanel() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const q = useQuery({ queryKey: ["analytics-overview"], queryFn: () => api<Overview>("GET", "/api/v1/analytics/overview") });
  return (
    <Loadable q={q}>
      {(d) => {
        const reasons = d.topReasonsThisMonth as { key: string; count: number; drillDown: Record<string, string> }[];
        return (
          <Row gutter={16} style={{ marginTop: 16 }}>
            <Col xs={24} lg={8}>
              <Card extra={<Link to="/analytics">{t("an.more")}</Link>}>
                <Statistic title={t("returnRate")} value={`${((d.returnRate ?? 0) * 100).toFixed(1)} %`} />
                <Statistic title={t("refundRate")} value={`${((d.refundRate ?? 0) * 100).toFixed(1)} %`} style={{ marginTop: 12 }} />
                <Statistic title={t("refunded")} value={money(d.refunded)} style={{ marginTop: 12 }} />
              </Card>
            </Col>
            <Col xs={24} lg={16}>
              <Card title={t("topReasons")}>
                <Chart
                  testId="reasons-chart"
                  height={240}
                  onPick={(i) => void nav(`/cases?${new URLSearchParams(reasons[i].drillDown)}`)}
                  option={{
                    tooltip: {},
                    grid: { left: 40, right: 10, top: 10, bottom: 60 },
                    xAxis: { type: "category", data: reasons.map((r) => t(`reason.${r.key}`)), axisLabel: { rotate: 30 } },
                    yAxis: { type: "value", minInterval: 1 },
                    series: [{ type: "bar", data: reasons.map((r) => r.count), itemStyle: { color: "#fa8c16" } }],
                  }}
                />
              </Card>
            </Col>
          </Row>
        );
      }}
    </Loadable>
  );
}
