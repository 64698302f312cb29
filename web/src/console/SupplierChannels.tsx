import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Form, Input, Modal, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, money, when } from "../api";
import { Loadable, reportError, useConfirm, useMe } from "../shared";

/**
 * Supplier platforms in the console: each supplier's channel (supplier portal, 1688, CJ, e-mail/CSV)
 * chosen and shown on the supplier list, an offer's platform ids (1688 offer and spec, CJ vid),
 * the back-to-back recovery of a case, the finance list of outstanding recoveries, oldest first,
 * and the recovery figures of the supplier scorecard.
 */
const KINDS = ["portal", "alibaba1688", "cj", "email_csv"] as const;
const PLATFORMS = new Set(["alibaba1688", "cj"]);
type Channel = { supplierId: string; kind: string; connectorId: string | null; autoForward: boolean };

const useChannel = (supplierId: string) =>
  useQuery({ queryKey: ["channel", supplierId], queryFn: () => api<Channel>("GET", `/api/v1/suppliers/${supplierId}/channel`) });

/** A supplier's channel as a tag, with the form to change it (admins). */
export function SupplierChannelCell({ supplierId }: { supplierId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useChannel(supplierId);
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const kind = Form.useWatch("kind", form);
  const connectors = useQuery({
    queryKey: ["connectors"],
    queryFn: () => api<{ items: { id: string; kind: string; name: string }[] }>("GET", "/api/v1/connectors"),
    enabled: open,
  });
  const ch = q.data;
  return (
    <Space data-testid={`channel-${supplierId}`}>
      <Tag color={ch && PLATFORMS.has(ch.kind) ? "blue" : undefined}>{t(`channel.kind.${ch?.kind ?? "portal"}`)}</Tag>
      <Button
        size="small"
        onClick={() => {
          form.setFieldsValue({
            kind: ch?.kind ?? "portal",
            connectorId: ch?.connectorId ?? undefined,
            autoForward: ch?.autoForward ?? true,
          });
          setOpen(true);
        }}
      >
        {t("channel.edit")}
      </Button>
      <Modal
        open={open}
        title={t("channel.title")}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        okText={t("confirm.ok")}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          onFinish={async (v) => {
            try {
              await api("PUT", `/api/v1/suppliers/${supplierId}/channel`, {
                kind: v.kind,
                connectorId: PLATFORMS.has(v.kind) ? v.connectorId : null,
                autoForward: Boolean(v.autoForward),
              });
              message.success(t("case.done", { action: t("channel.edit") }));
              setOpen(false);
              void qc.invalidateQueries({ queryKey: ["channel", supplierId] });
            } catch (e) {
              reportError(form, message, e);
            }
          }}
        >
          <Form.Item name="kind" label={t("channel.title")} rules={[{ required: true }]}>
            <Select options={KINDS.map((k) => ({ value: k, label: t(`channel.kind.${k}`) }))} />
          </Form.Item>
          {PLATFORMS.has(kind) && (
            <>
              <Form.Item name="connectorId" label={t("channel.account")} rules={[{ required: true, message: t("channel.needAccount") }]}>
                <Select
                  options={(connectors.data?.items ?? []).filter((c) => c.kind === kind).map((c) => ({ value: c.id, label: c.name }))}
                  notFoundContent={t("channel.needAccount")}
                />
              </Form.Item>
              <Form.Item name="autoForward" label={t("channel.autoForward")} valuePropName="checked">
                <Switch />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Space>
  );
}

type Link = {
  externalOfferId: string;
  externalSpecId: string | null;
  lastPrice: number | null;
  lastStock: number | null;
  syncedAt: string | null;
  priceWarning: { percent: number } | null;
};

/** An offer's platform ids (1688 offer and spec, CJ vid), editable when its supplier is on a platform. */
export function OfferLinkCell({ offer }: { offer: { id: string; supplierId: string } }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const ch = useChannel(offer.supplierId).data;
  const onPlatform = Boolean(ch && PLATFORMS.has(ch.kind));
  const link = useQuery({
    queryKey: ["offer-link", offer.id],
    queryFn: () => api<Link>("GET", `/api/v1/offers/${offer.id}/channel-link`).catch(() => null),
    enabled: onPlatform,
  });
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  if (!onPlatform) return <Typography.Text type="secondary">{t("offerLink.noChannel")}</Typography.Text>;
  const is1688 = ch?.kind === "alibaba1688";
  const l = link.data;
  return (
    <Space data-testid={`offer-link-${offer.id}`} wrap>
      {l ? (
        <Typography.Text code>{[l.externalOfferId, l.externalSpecId].filter(Boolean).join(" / ")}</Typography.Text>
      ) : (
        t("offerLink.none")
      )}
      {l?.priceWarning && <Tag color="red">{t("offerLink.priceRise", { percent: l.priceWarning.percent })}</Tag>}
      <Button
        size="small"
        onClick={() => {
          form.setFieldsValue({ externalOfferId: l?.externalOfferId, externalSpecId: l?.externalSpecId ?? undefined });
          setOpen(true);
        }}
      >
        {t("offerLink.edit")}
      </Button>
      <Modal
        open={open}
        title={t("offerLink.title")}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        okText={t("confirm.ok")}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          onFinish={async (v) => {
            try {
              await api("PUT", `/api/v1/offers/${offer.id}/channel-link`, {
                externalOfferId: String(v.externalOfferId).trim(),
                externalSpecId: is1688 && v.externalSpecId ? String(v.externalSpecId).trim() : null,
              });
              message.success(t("case.done", { action: t("offerLink.edit") }));
              setOpen(false);
              void qc.invalidateQueries({ queryKey: ["offer-link", offer.id] });
            } catch (e) {
              reportError(form, message, e);
            }
          }}
        >
          <Form.Item
            name="externalOfferId"
            label={is1688 ? t("offerLink.offerId1688") : t("offerLink.vid")}
            rules={[{ required: true, whitespace: true }]}
          >
            <Input />
          </Form.Item>
          {is1688 && (
            <Form.Item name="externalSpecId" label={t("offerLink.specId1688")}>
              <Input />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Space>
  );
}

type Recovery = {
  refundedToCustomer: number;
  claimed: number;
  recovered: number;
  writtenOff: number;
  outstanding: number;
  net: number;
  claims: {
    claimId: string;
    status: string;
    claimed: number;
    recovered: number;
    daysOutstanding: number;
    daysToRecover: number | null;
    disputes: { id: string; state: string; reason: string | null; refundedAmount: number; openedAt: string }[];
  }[];
  platformTerms: { warnings: { code: string; message: string; messageEn: string }[] } | null;
};

/** The back-to-back recovery of one case: refunded to the customer, claimed, recovered, outstanding and for how long. */
export function CaseRecovery({ caseId }: { caseId: string }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const confirm = useConfirm();
  const role = useMe().data?.role;
  const q = useQuery({
    queryKey: ["recovery", caseId],
    queryFn: () => api<Recovery>("GET", `/api/v1/cases/${caseId}/recovery`),
    enabled: Boolean(role) && role !== "warehouse",
  });
  const en = i18n.language.startsWith("en");
  if (!role || role === "warehouse") return null;
  return (
    <Card size="small" title={t("recovery.title")} style={{ marginTop: 16 }} data-testid="case-recovery">
      <Loadable q={q}>
        {(r) => (
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Descriptions size="small" column={2}>
              <Descriptions.Item label={t("recovery.refunded")}>{money(r.refundedToCustomer)}</Descriptions.Item>
              <Descriptions.Item label={t("recovery.claimed")}>{money(r.claimed)}</Descriptions.Item>
              <Descriptions.Item label={t("recovery.recovered")}>{money(r.recovered)}</Descriptions.Item>
              <Descriptions.Item label={t("recovery.outstanding")}>{money(r.outstanding)}</Descriptions.Item>
              <Descriptions.Item label={t("recovery.writtenOff")}>{money(r.writtenOff)}</Descriptions.Item>
              <Descriptions.Item label={t("recovery.net")}>{money(r.net)}</Descriptions.Item>
            </Descriptions>
            {r.claims.length === 0 && <Typography.Text type="secondary">{t("recovery.none")}</Typography.Text>}
            {r.claims.map((c) => (
              <Space key={c.claimId} wrap>
                <Tag data-status={c.status}>{t(`claimStatus.${c.status}`, { defaultValue: t("recovery.claimed") })}</Tag>
                <span>
                  {c.daysToRecover === null
                    ? t("recovery.days", { n: c.daysOutstanding })
                    : t("recovery.daysToRecover", { n: c.daysToRecover })}
                </span>
                {c.disputes.map((d) => (
                  <Tag key={d.id} color={d.state === "refunded" ? "green" : d.state === "open" ? "blue" : undefined}>
                    {t("recovery.dispute")}：{t(`recovery.disputeState.${d.state}`)}
                    {d.refundedAmount ? ` ${money(d.refundedAmount)}` : ""}
                  </Tag>
                ))}
                {["open", "disputed"].includes(c.status) && !c.disputes.some((d) => d.state === "open") && (
                  <Button
                    size="small"
                    onClick={() =>
                      void confirm({
                        title: t("recovery.openDispute"),
                        content: t("recovery.openDisputeWhat", { amount: money(c.claimed) }),
                        run: () => api("POST", `/api/v1/supplier-claims/${c.claimId}/actions/open-dispute`, {}),
                        done: t("case.done", { action: t("recovery.openDispute") }),
                      }).then((ran) => {
                        if (ran) void qc.invalidateQueries({ queryKey: ["recovery", caseId] });
                      })
                    }
                  >
                    {t("recovery.openDispute")}
                  </Button>
                )}
              </Space>
            ))}
            {r.platformTerms?.warnings.map((w) => (
              <Alert key={w.code} type="warning" showIcon title={en ? w.messageEn : w.message} />
            ))}
          </Space>
        )}
      </Loadable>
    </Card>
  );
}

type Outstanding = {
  claimId: string;
  caseId: string | null;
  caseNo: string | null;
  supplierName: string;
  status: string;
  refundedToCustomer: number;
  outstanding: number;
  openedAt: string;
  daysOutstanding: number;
  dispute: { state: string } | null;
};

/** Finance's list of what suppliers still owe back, oldest first. */
export function Recoveries() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const q = useQuery({
    queryKey: ["recoveries"],
    queryFn: () => api<{ items: Outstanding[]; total: number }>("GET", "/api/v1/recoveries?limit=200"),
  });
  return (
    <Card title={t("recovery.list")} data-testid="recoveries">
      <Loadable q={q}>
        {(d) => (
          <>
            <Typography.Paragraph>{t("recovery.total", { amount: money(d.total) })}</Typography.Paragraph>
            <Table
              rowKey="claimId"
              size="small"
              dataSource={d.items}
              columns={[
                {
                  title: t("recovery.case"),
                  dataIndex: "caseNo",
                  render: (v: string | null, r) => (r.caseId ? <a onClick={() => nav(`/cases/${r.caseId}`)}>{v}</a> : "—"),
                },
                { title: t("recovery.supplier"), dataIndex: "supplierName" },
                {
                  title: t("status"),
                  dataIndex: "status",
                  render: (v: string) => <Tag data-status={v}>{t(`claimStatus.${v}`, { defaultValue: t("recovery.outstanding") })}</Tag>,
                },
                { title: t("recovery.refunded"), dataIndex: "refundedToCustomer", render: (v: number) => money(v) },
                { title: t("recovery.outstanding"), dataIndex: "outstanding", render: (v: number) => money(v) },
                { title: t("recovery.opened"), dataIndex: "openedAt", render: (v: string) => when(v) },
                { title: t("recovery.waiting"), dataIndex: "daysOutstanding", render: (v: number) => t("recovery.days", { n: v }) },
                {
                  title: t("recovery.dispute"),
                  dataIndex: "dispute",
                  render: (v: Outstanding["dispute"]) => (v ? t(`recovery.disputeState.${v.state}`) : "—"),
                },
              ]}
            />
          </>
        )}
      </Loadable>
    </Card>
  );
}

export type SupplierRecovery = {
  supplierId: string;
  recoveryRate: number | null;
  medianDaysToRecover: number | null;
  oldestOpenDays: number | null;
};

/** The scorecard's recovery figures per supplier (what actually came back, and how fast). */
export function useSupplierRecovery() {
  const q = useQuery({
    queryKey: ["recoveries-suppliers"],
    queryFn: () => api<{ items: SupplierRecovery[] }>("GET", "/api/v1/recoveries/suppliers"),
  });
  return new Map((q.data?.items ?? []).map((x) => [x.supplierId, x]));
}
