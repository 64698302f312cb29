import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Col, DatePicker, Form, Input, List, Row, Select, Space, Tabs, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { REASONS } from "../../../src/domain/vocabulary";
import { ApiError, api } from "../api";
import { Loadable } from "../shared";
import type { Page, Shop } from "../types";
import type { Eligibility, OrderListItem, SavedPolicy, ShopPolicy } from "../types/views";
import { PolicyForm } from "./PolicyForm";

/** The return policy of one shop: its rules as a form (or JSON), saved as a new version, and a panel to try it on an order. */
export default function Policy() {
  const [sp, setSp] = useSearchParams();
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<Page<Shop>>("GET", "/api/v1/shops") });
  const shopId = sp.get("shop") ?? shops.data?.items?.[0]?.id;
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Loadable q={shops} empty={(d) => d.items.length === 0}>
        {(d) => (
          <Select
            style={{ width: 280 }}
            value={shopId}
            onChange={(v) => setSp({ shop: v })}
            options={d.items.map((s) => ({ value: s.id, label: s.name }))}
            data-testid="policy-shop"
          />
        )}
      </Loadable>
      {shopId && (
        <Row gutter={16}>
          <Col xs={24} xl={14}>
            <PolicyEditor shopId={shopId} />
          </Col>
          <Col xs={24} xl={10}>
            <TryIt shopId={shopId} />
          </Col>
        </Row>
      )}
    </Space>
  );
}

function PolicyEditor({ shopId }: { shopId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["policy", shopId], queryFn: () => api<ShopPolicy>("GET", `/api/v1/shops/${shopId}/policy`) });
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<{ field: string; message: string }[]>([]);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (q.data) setText(JSON.stringify(q.data.rules, null, 2));
    setErrors([]);
  }, [q.data]);
  /** Saves a new version; on failure lists the API's field errors and rethrows for the form. */
  const saveOrThrow = async (body: Record<string, unknown>) => {
    setSaving(true);
    setErrors([]);
    try {
      const r = await api<SavedPolicy>("PUT", `/api/v1/shops/${shopId}/policy`, body);
      message.success(`${t("saved")} v${r.version}`);
      void qc.invalidateQueries({ queryKey: ["policy", shopId] });
    } catch (e) {
      if (e instanceof ApiError && e.fields.length) setErrors(e.fields);
      else setErrors([{ field: "", message: (e as Error).message }]);
      throw e;
    } finally {
      setSaving(false);
    }
  };
  const save = (body: Record<string, unknown>) => saveOrThrow(body).catch(() => {});
  const saveText = () => {
    let rules: unknown;
    try {
      rules = JSON.parse(text);
    } catch (e) {
      setErrors([{ field: "JSON", message: (e as Error).message }]);
      return;
    }
    void save({ rules });
  };
  return (
    <Card title={t("policy")}>
      <Loadable q={q}>
        {(p) => (
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Space wrap>
              <Tag color="blue">v{p.version}</Tag>
              <Typography.Text type="secondary">{t(`preset.${p.rules.preset}`, { defaultValue: t("preset.custom") })}</Typography.Text>
              {p.presets.map((name) => (
                <Button key={name} size="small" onClick={() => save({ preset: name })} loading={saving} data-preset={name}>
                  {t("usePreset")}: {t(`preset.${name}`, { defaultValue: t("preset.custom") })}
                </Button>
              ))}
            </Space>
            <Tabs
              defaultActiveKey="form"
              items={[
                {
                  key: "form",
                  label: t("pf.form"),
                  children: <PolicyForm rules={p.rules} saving={saving} onSave={(rules) => saveOrThrow({ rules })} />,
                },
                {
                  key: "json",
                  label: t("pf.json"),
                  children: (
                    <Space orientation="vertical" style={{ width: "100%" }}>
                      <Input.TextArea
                        value={text}
                        onChange={(e) => setText(e.target.value)}
                        autoSize={{ minRows: 16, maxRows: 32 }}
                        style={{ fontFamily: "monospace", fontSize: 12 }}
                        data-testid="policy-json"
                      />
                      <Button type="primary" onClick={saveText} loading={saving} data-testid="policy-save">
                        {t("saveNewVersion")}
                      </Button>
                    </Space>
                  ),
                },
              ]}
            />
            {errors.length > 0 && (
              <Alert
                type="error"
                showIcon
                data-testid="policy-errors"
                title={t("fixFields")}
                description={
                  <ul style={{ margin: 0, paddingLeft: 16 }}>
                    {errors.map((f) => (
                      <li key={`${f.field}:${f.message}`}>
                        {f.field && <code>{f.field}</code>} {f.message}
                      </li>
                    ))}
                  </ul>
                }
              />
            )}
          </Space>
        )}
      </Loadable>
    </Card>
  );
}

function TryIt({ shopId }: { shopId: string }) {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm();
  const [params, setParams] = useState<{ orderId: string; reason: string; at?: string } | null>(null);
  const orders = useQuery({
    queryKey: ["policy-orders", shopId],
    queryFn: () => api<Page<OrderListItem>>("GET", `/api/v1/orders?shopId=${shopId}&limit=50`),
  });
  const result = useQuery({
    queryKey: ["eligibility", params],
    enabled: Boolean(params),
    queryFn: () => {
      const p = params as { orderId: string; reason: string; at?: string };
      const qs = new URLSearchParams({ reason: p.reason, ...(p.at && { at: p.at }) });
      return api<Eligibility>("GET", `/api/v1/orders/${p.orderId}/eligibility?${qs}`);
    },
  });
  return (
    <Card title={t("tryIt")}>
      <Form
        form={form}
        layout="vertical"
        initialValues={{ reason: "changed_mind" }}
        onFinish={(v) => setParams({ orderId: v.orderId, reason: v.reason, at: v.at ? v.at.toDate().toISOString() : undefined })}
      >
        <Form.Item name="orderId" label={t("orderNo")} rules={[{ required: true }]}>
          <Select
            showSearch
            optionFilterProp="label"
            loading={orders.isLoading}
            options={(orders.data?.items ?? []).map((o) => ({
              value: o.id,
              label: `${o.platformOrderNo} · ${t(`orderStatus.${o.status}`, { defaultValue: o.status })}`,
            }))}
          />
        </Form.Item>
        <Form.Item name="reason" label={t("reason")}>
          <Select options={REASONS.map((r) => ({ value: r, label: t(`reason.${r}`) }))} />
        </Form.Item>
        <Form.Item name="at" label={t("askedAt")}>
          <DatePicker showTime style={{ width: "100%" }} />
        </Form.Item>
        <Button htmlType="submit">{t("check")}</Button>
      </Form>
      {params && (
        <div style={{ marginTop: 16 }}>
          <Loadable q={result}>
            {(r) => (
              <List
                size="small"
                dataSource={r.lines}
                renderItem={(l) => (
                  <List.Item>
                    <Space orientation="vertical" size={2}>
                      <b>
                        {l.skuCode} {l.title}
                      </b>
                      {l.options.map((o) => (
                        <div key={o.type}>
                          <Tag color={o.allowed ? "green" : "default"}>{t(`type.${o.type}`)}</Tag>
                          {o.reasons?.[0] && (
                            <Typography.Text type="secondary">
                              {i18n.language === "en" ? (o.reasons[0].messageEn ?? o.reasons[0].message) : o.reasons[0].message}
                            </Typography.Text>
                          )}
                        </div>
                      ))}
                    </Space>
                  </List.Item>
                )}
              />
            )}
          </Loadable>
        </div>
      )}
    </Card>
  );
}
