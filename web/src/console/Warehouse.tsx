import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Card, Descriptions, Empty, Input, Space, Table, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import type { CaseStatus } from "../../../src/domain/vocabulary";
import { api, when } from "../api";
import { carrierName } from "../names";
import { Loadable, StatusTag, useConfirm } from "../shared";
import type { Page } from "../types";
import type { CaseListItem, CaseView } from "../types/views";
import { ActionButton } from "./CaseDetail";
import { useCaseDetails } from "./CaseQueues";

/** Statuses the warehouse works on: parcels coming back, and parcels received but not yet inspected. */
const INCOMING: CaseStatus[] = ["return_in_transit", "received"];

async function incomingCases(): Promise<CaseListItem[]> {
  const lists = await Promise.all(INCOMING.map((s) => api<Page<CaseListItem>>("GET", `/api/v1/cases?status=${s}&limit=100`)));
  return lists.flatMap((l) => l.items);
}

/**
 * Finds the case of a returned parcel: by case or order number first (the API's `q`), then by the
 * return tracking number among the cases whose return is on its way or received.
 */
async function findParcel(code: string): Promise<CaseView | null> {
  const direct = await api<Page<CaseListItem>>("GET", `/api/v1/cases?q=${encodeURIComponent(code)}&limit=5`);
  if (direct.items.length) return api<CaseView>("GET", `/api/v1/cases/${direct.items[0].id}`);
  const wanted = code.replace(/\s+/g, "").toUpperCase();
  for (const item of await incomingCases()) {
    const c = await api<CaseView>("GET", `/api/v1/cases/${item.id}`);
    if (c.returnShipment?.trackingNo?.replace(/\s+/g, "").toUpperCase() === wanted) return c;
  }
  return null;
}

export default function Warehouse() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const [code, setCode] = useState("");
  const list = useQuery({ queryKey: ["cases", "warehouse"], queryFn: incomingCases });
  const found = useQuery({ queryKey: ["parcel", code], queryFn: () => findParcel(code), enabled: Boolean(code) });
  const reload = () => {
    void qc.invalidateQueries({ queryKey: ["parcel", code] });
    void qc.invalidateQueries({ queryKey: ["cases"] });
  };
  const details = useCaseDetails((list.data ?? []).map((c) => c.id));
  const [selected, setSelected] = useState<string[]>([]);
  const confirm = useConfirm();
  const bulkReceive = async () => {
    let ok = 0;
    for (const id of selected)
      ok += await api("POST", `/api/v1/cases/${id}/actions/receive`, {}).then(
        () => 1,
        () => 0,
      );
    setSelected([]);
    reload();
    if (ok < selected.length) throw new Error(t("wh.bulkReceived", { ok, failed: selected.length - ok }));
    return ok;
  };
  return (
    <Space orientation="vertical" style={{ width: "100%" }} size="middle">
      <Card title={t("receiveParcel")}>
        <Input.Search
          autoFocus
          size="large"
          placeholder={t("scanTracking")}
          enterButton={t("search")}
          allowClear
          onSearch={(v) => setCode(v.trim())}
          data-testid="parcel-code"
        />
        {code && (
          <div style={{ marginTop: 16 }}>
            <Loadable q={found}>
              {(c) =>
                c ? (
                  <Space orientation="vertical" style={{ width: "100%" }} data-testid="parcel-case">
                    <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered>
                      <Descriptions.Item label="#">
                        <a onClick={() => nav(`/cases/${c.id}`)}>{c.caseNo}</a>
                      </Descriptions.Item>
                      <Descriptions.Item label={t("status")}>
                        <StatusTag status={c.status} />
                      </Descriptions.Item>
                      <Descriptions.Item label={t("orderNo")}>{c.platformOrderNo}</Descriptions.Item>
                      <Descriptions.Item label={t("returnTracking")}>
                        {c.returnShipment ? `${carrierName(t, c.returnShipment.carrier)} ${c.returnShipment.trackingNo}` : "—"}
                      </Descriptions.Item>
                      <Descriptions.Item label={t("lines")} span={2}>
                        {c.lines.map((l) => `${l.skuCode} ${l.title} × ${l.quantity}`).join("；")}
                      </Descriptions.Item>
                      <Descriptions.Item label={t("reason")}>{t(`reason.${c.reason}`)}</Descriptions.Item>
                      <Descriptions.Item label={t("type")}>{t(`type.${c.type}`)}</Descriptions.Item>
                    </Descriptions>
                    <Space wrap>
                      {c.allowedActions
                        .filter((a) => a === "receive" || a === "inspect")
                        .map((a) => (
                          <ActionButton key={a} caseId={c.id} action={a} onDone={reload} />
                        ))}
                    </Space>
                    {!c.allowedActions.some((a) => a === "receive" || a === "inspect") && (
                      <Alert type="info" showIcon title={t("nothingToDoHere")} />
                    )}
                  </Space>
                ) : (
                  <Empty description={t("noParcel")} />
                )
              }
            </Loadable>
          </div>
        )}
      </Card>
      <Card
        title={t("incomingReturns")}
        extra={
          <Button
            disabled={!selected.length}
            data-testid="bulk-receive"
            onClick={() =>
              void confirm({
                title: t("wh.bulkReceive"),
                content: t("wh.bulkReceiveWhat", { count: selected.length }),
                run: bulkReceive,
                done: t("wh.bulkReceived", { ok: selected.length, failed: 0 }),
              })
            }
          >
            {t("wh.bulkReceive")}
          </Button>
        }
      >
        <Loadable q={list} empty={(d) => d.length === 0}>
          {(items) => (
            <Table
              rowKey="id"
              size="small"
              dataSource={items}
              rowSelection={{
                selectedRowKeys: selected,
                onChange: (k) => setSelected(k as string[]),
                getCheckboxProps: (r) => ({ disabled: r.status !== "return_in_transit", "aria-label": r.caseNo }),
              }}
              onRow={(r) => ({
                // A tick in the selection column chooses the parcel; anywhere else on the row opens the case.
                onClick: (e) => !(e.target as HTMLElement).closest(".ant-table-selection-column") && nav(`/cases/${r.id}`),
                style: { cursor: "pointer" },
              })}
              columns={[
                { title: "#", dataIndex: "caseNo" },
                { title: t("orderNo"), dataIndex: "platformOrderNo" },
                {
                  title: t("returnTracking"),
                  key: "tracking",
                  render: (_: unknown, r) => {
                    const s = details.get(r.id)?.returnShipment;
                    return s ? <span data-testid="tracking">{`${carrierName(t, s.carrier)} ${s.trackingNo}`}</span> : "—";
                  },
                },
                { title: t("status"), dataIndex: "status", render: (v: string) => <StatusTag status={v} /> },
                { title: t("reason"), dataIndex: "reason", render: (v: string) => t(`reason.${v}`) },
                {
                  title: t("deadline"),
                  dataIndex: "deadline",
                  render: (d: CaseListItem["deadline"], r) =>
                    d ? <Typography.Text type={r.overdue ? "danger" : undefined}>{when(d.at, r.shopTimezone)}</Typography.Text> : "—",
                },
              ]}
            />
          )}
        </Loadable>
      </Card>
    </Space>
  );
}
