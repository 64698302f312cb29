import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Card, Space, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, money, when } from "../api";
import { useConfirm, useMe } from "../shared";

/** A refund's route in words: 支付宝原路退回, 微信支付原路退回 + 银行卡 (Stripe), 平台退款, … */
export function RouteNames({ route }: { route?: string[] | null }) {
  const { t } = useTranslation();
  return (
    <span data-testid="refund-route">{(route ?? []).map((g) => t(`route.${g}`, { defaultValue: t("route.other") })).join(" + ")}</span>
  );
}

/**
 * Finance's gateway queue: refunds a payment service has not paid yet — waiting because it was
 * down, throttled or not trusted, or refused — with the reason in words, the route, the attempts,
 * the next try, and a button to try again (now, or after a refusal) under the same key.
 */
export function GatewayQueue() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const nav = useNavigate();
  const confirm = useConfirm();
  const q = useQuery({
    queryKey: ["gateway-queue"],
    queryFn: () => api<{ items: any[] }>("GET", "/api/v1/refunds/gateway-queue"),
    retry: false,
  });
  if (q.isError || !q.data) return null;
  const retry = (r: any, a: string) =>
    void confirm({
      title: t(`gq.action.${a}`),
      content: t(a === "retry" ? "gq.retryWhat" : "gq.retryNowWhat", { amount: money(r.amount) }),
      run: () => api("POST", `/api/v1/refunds/${r.id}/actions/${a}`, {}),
      done: t("gq.done"),
    }).then((ran) => {
      if (!ran) return;
      void qc.invalidateQueries({ queryKey: ["gateway-queue"] });
      void qc.invalidateQueries({ queryKey: ["refunds"] });
      void qc.invalidateQueries({ queryKey: ["tb"] });
    });
  return (
    <Card title={t("gq.title")} style={{ marginBottom: 16 }} data-testid="gateway-queue">
      <Typography.Paragraph type="secondary">{t("gq.hint")}</Typography.Paragraph>
      <Table
        rowKey="id"
        size="small"
        dataSource={q.data.items}
        locale={{ emptyText: t("gq.empty") }}
        columns={[
          {
            title: t("orderNo"),
            render: (_: unknown, r: any) => (
              <a onClick={() => nav(r.caseId ? `/cases/${r.caseId}` : `/orders/${r.orderId}`)}>{r.caseNo ?? r.orderNo}</a>
            ),
          },
          { title: t("amount"), dataIndex: "amount", render: (v: number) => money(v) },
          { title: t("refund.route"), dataIndex: "route", render: (v: string[]) => <RouteNames route={v} /> },
          {
            title: t("status"),
            dataIndex: "status",
            render: (v: string) => (
              <Tag color={v === "failed" ? "red" : "gold"} data-status={v}>
                {t(`refundStatus.${v}`, { defaultValue: t("action.other") })}
              </Tag>
            ),
          },
          {
            title: t("reason"),
            render: (_: unknown, r: any) => (
              <Space orientation="vertical" size={0}>
                <span data-testid="gq-reason" title={r.reason ?? ""}>
                  {t(`gq.reason.${r.reasonKind}`, { defaultValue: t("gq.reason.other") })}
                </span>
                {r.legs
                  .filter((l: any) => l.status !== "succeeded" && l.reasonKind)
                  .map((l: any) => (
                    <Typography.Text key={l.legNo} type="secondary" title={l.lastError ?? ""}>
                      {`${t(`route.${l.gateway}`, { defaultValue: t("route.other") })} ${money(l.amount)}：${t(`gq.reason.${l.reasonKind}`)}`}
                    </Typography.Text>
                  ))}
              </Space>
            ),
          },
          { title: t("gq.attempts"), dataIndex: "attempts" },
          { title: t("gq.next"), dataIndex: "nextAttemptAt", render: (v: string | null) => (v ? when(v) : "—") },
          {
            title: "",
            dataIndex: "allowedActions",
            render: (acts: string[], r: any) =>
              acts.map((a) => (
                <Button key={a} size="small" data-action={a} onClick={() => retry(r, a)}>
                  {t(`gq.action.${a}`)}
                </Button>
              )),
          },
        ]}
      />
    </Card>
  );
}

/** A case's refunds: amount, status and the route each goes back by. */
export function CaseRefunds({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const me = useMe();
  // The roles that may list refunds (the warehouse does not): others see the case without the card.
  const mayList = ["admin", "cs", "finance", "viewer"].includes(me.data?.role ?? "");
  const q = useQuery({
    queryKey: ["refunds", "case", caseId],
    queryFn: () => api<{ items: any[] }>("GET", `/api/v1/refunds?caseId=${caseId}`),
    enabled: mayList,
  });
  const items = q.data?.items ?? [];
  if (!items.length) return null;
  return (
    <Card size="small" title={t("refunds")} style={{ marginTop: 16 }} data-testid="case-refunds">
      <Table
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={items}
        columns={[
          { title: t("amount"), dataIndex: "amount", render: (v: number) => money(v) },
          { title: t("refund.route"), dataIndex: "route", render: (v: string[]) => <RouteNames route={v} /> },
          {
            title: t("status"),
            dataIndex: "status",
            render: (v: string) => (
              <Tag color={v === "failed" ? "red" : v === "succeeded" ? "green" : "gold"} data-status={v}>
                {t(`refundStatus.${v}`, { defaultValue: t("action.other") })}
              </Tag>
            ),
          },
          { title: "", dataIndex: "confirmedAt", render: (v: string | null) => (v ? when(v) : "") },
        ]}
      />
    </Card>
  );
}
