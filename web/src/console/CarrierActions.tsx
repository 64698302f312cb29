import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Card, Space, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api } from "../api";
import { carrierName } from "../names";
import { useConfirm } from "../shared";
import type { CarrierInterceptState, Order, OrderSupplierOrder } from "../types/views";

/**
 * Interception through the carrier (快递100) on a supplier order's row: offered while the parcel is
 * shipped (or an interception was asked of the supplier) and the carrier is one of the list, with a
 * dialog saying what happens; the last interception asked of the carrier is shown with its result.
 */
/** The supplier order fields the interception reads. */
type InterceptedSo = Pick<OrderSupplierOrder, "id" | "status" | "carrier" | "trackingNo" | "supplierName">;

export function CarrierIntercept({ so, onDone }: { so: InterceptedSo; onDone: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const confirm = useConfirm();
  const key = ["carrier-intercept", so.id];
  const shipped = ["shipped", "intercept_requested", "intercepted"].includes(so.status);
  const q = useQuery({
    queryKey: key,
    queryFn: () => api<CarrierInterceptState>("GET", `/api/v1/supplier-orders/${so.id}/carrier-intercept`),
    enabled: shipped,
  });
  const s = q.data;
  if (!shipped || !s) return null;
  const it = s.intercept;
  const ask = () =>
    void confirm({
      title: t("ci.title"),
      content: (
        <>
          <Typography.Paragraph>
            {t("ci.what", { carrier: carrierName(t, so.carrier), tracking: so.trackingNo ?? "", supplier: so.supplierName ?? "" })}
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary">{t("ci.after")}</Typography.Paragraph>
        </>
      ),
      run: () => api("POST", `/api/v1/supplier-orders/${so.id}/actions/carrier-intercept`, {}),
      done: t("ci.sent"),
    }).then((ran) => {
      if (!ran) return;
      void qc.invalidateQueries({ queryKey: key });
      onDone();
    });
  return (
    <Space size={4} wrap>
      {it && (
        <Tag
          color={it.status === "intercepted" ? "green" : it.status === "failed" ? "red" : "gold"}
          data-testid="ci-status"
          title={it.message ?? ""}
        >
          {t(`ci.status.${it.status}`)}
        </Tag>
      )}
      {s.available ? (
        <Button size="small" data-action="carrier-intercept" onClick={ask}>
          {t("ci.button")}
        </Button>
      ) : (
        s.blocked &&
        s.blocked !== "status" &&
        s.blocked !== "already_sent" && <Typography.Text type="secondary">{t(`ci.blocked.${s.blocked}`)}</Typography.Text>
      )}
    </Space>
  );
}

/** The supplier orders of a case's order, each with its tracking and the carrier's interception. */
export function CaseSupplierOrders({ orderId }: { orderId: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["order", orderId], queryFn: () => api<Order>("GET", `/api/v1/orders/${orderId}`) });
  const rows = q.data?.supplierOrders ?? [];
  if (!rows.length) return null;
  return (
    <Card size="small" title={t("supplierOrders")} style={{ marginTop: 16 }} data-testid="case-supplier-orders">
      <Table
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={rows}
        columns={[
          { title: t("suppliers"), dataIndex: "supplierName" },
          {
            title: t("status"),
            dataIndex: "status",
            render: (s: string) => <Tag data-status={s}>{t(`soStatus.${s}`, { defaultValue: t("action.other") })}</Tag>,
          },
          {
            title: t("trackingNo"),
            render: (_: unknown, so) => (so.trackingNo ? `${carrierName(t, so.carrier)} ${so.trackingNo}` : "—"),
          },
          {
            title: t("actions"),
            render: (_: unknown, so) => (
              <CarrierIntercept so={so} onDone={() => void qc.invalidateQueries({ queryKey: ["order", orderId] })} />
            ),
          },
        ]}
      />
    </Card>
  );
}
