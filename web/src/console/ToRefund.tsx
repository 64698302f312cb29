import { useQuery } from "@tanstack/react-query";
import { Card, Input, Space, Table, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, money, when } from "../api";
import { Loadable, StatusTag } from "../shared";
import { SlaCountdown, useCaseDetails } from "./CaseQueues";

// Finance's landing page: the cases inspected and waiting for their refund, with case and order
// numbers, customer, amount, dates and the refund deadline; a search by case number, order
// number or phone. A row opens the case, where the refund is confirmed with its amount.

type Row = {
  id: string;
  caseNo: string;
  platformOrderNo: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  shopTimezone?: string;
  deadline?: { at: string } | null;
};

export default function ToRefund() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const [q, setQ] = useState("");
  const list = useQuery({
    queryKey: ["cases", "to-refund"],
    queryFn: () => api<{ items: Row[] }>("GET", "/api/v1/cases?status=inspected&limit=100"),
  });
  const details = useCaseDetails((list.data?.items ?? []).map((c) => c.id));
  const needle = q.trim().toUpperCase();
  const shown = (list.data?.items ?? []).filter(
    (c) =>
      !needle ||
      c.caseNo.toUpperCase().includes(needle) ||
      c.platformOrderNo.toUpperCase().includes(needle) ||
      (details.get(c.id)?.customer.phone ?? "").includes(needle),
  );
  return (
    <Card title={t("queue.inspected")} data-testid="to-refund">
      <Space orientation="vertical" style={{ width: "100%" }}>
        <Input.Search
          allowClear
          placeholder={t("refundQueue.search")}
          aria-label={t("refundQueue.search")}
          style={{ maxWidth: 320 }}
          onSearch={setQ}
          onChange={(e) => !e.target.value && setQ("")}
          data-testid="to-refund-search"
        />
        <Typography.Text data-testid="to-refund-total">{t("queue.total", { count: shown.length })}</Typography.Text>
        <Loadable q={list}>
          {() => (
            <Table
              rowKey="id"
              size="small"
              dataSource={shown}
              pagination={{ pageSize: 50 }}
              onRow={(r) => ({ onClick: () => nav(`/cases/${r.id}`), style: { cursor: "pointer" } })}
              columns={[
                { title: "#", dataIndex: "caseNo", render: (v: string) => <a>{v}</a> },
                { title: t("orderNo"), dataIndex: "platformOrderNo" },
                { title: t("queue.customer"), key: "customer", render: (_: unknown, r: Row) => details.get(r.id)?.customer.name ?? "—" },
                {
                  title: t("amount"),
                  key: "amount",
                  align: "right" as const,
                  render: (_: unknown, r: Row) => {
                    const d = details.get(r.id);
                    return d ? money(d.amount, d.currency) : "—";
                  },
                },
                { title: t("status"), dataIndex: "status", render: (v: string) => <StatusTag status={v} /> },
                { title: t("queue.created"), dataIndex: "createdAt", render: (v: string, r: Row) => when(v, r.shopTimezone) },
                { title: t("refundQueue.inspected"), dataIndex: "updatedAt", render: (v: string, r: Row) => when(v, r.shopTimezone) },
                {
                  title: t("queue.sla"),
                  key: "sla",
                  render: (_: unknown, r: Row) => <SlaCountdown at={r.deadline?.at} timeZone={r.shopTimezone} />,
                },
              ]}
            />
          )}
        </Loadable>
      </Space>
    </Card>
  );
}
