import { useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Statistic } from "antd";
import { BarChart } from "echarts/charts";
import { GridComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, money } from "../api";
import { Loadable } from "../shared";

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

/** This month's return rate, refunds and top reasons from the analytics API; a bar opens its cases. */
export default function AnalyticsPanel() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const q = useQuery({ queryKey: ["analytics-overview"], queryFn: () => api<any>("GET", "/api/v1/analytics/overview") });
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current || !q.data) return;
    const reasons = q.data.topReasonsThisMonth as { key: string; count: number; drillDown: Record<string, string> }[];
    const chart = echarts.init(ref.current);
    chart.setOption({
      tooltip: {},
      grid: { left: 40, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: reasons.map((r) => t(`reason.${r.key}`)), axisLabel: { rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: reasons.map((r) => r.count), itemStyle: { color: "#fa8c16" } }],
    });
    chart.on("click", (p) => {
      void nav(`/cases?${new URLSearchParams(reasons[p.dataIndex].drillDown)}`);
    });
    return () => chart.dispose();
  }, [q.data, nav, t]);
  return (
    <Loadable q={q}>
      {(d) => (
        <Row gutter={16} style={{ marginTop: 16 }}>
          <Col xs={24} lg={8}>
            <Card>
              <Statistic title={t("returnRate")} value={`${(d.returnRate * 100).toFixed(1)} %`} />
              <Statistic title={t("refundRate")} value={`${(d.refundRate * 100).toFixed(1)} %`} style={{ marginTop: 12 }} />
              <Statistic title={t("refunded")} value={money(d.refunded)} style={{ marginTop: 12 }} />
            </Card>
          </Col>
          <Col xs={24} lg={16}>
            <Card title={t("topReasons")}>
              <div ref={ref} style={{ height: 240 }} data-testid="reasons-chart" />
            </Card>
          </Col>
        </Row>
      )}
    </Loadable>
  );
}
