import { Alert, Button, Form, Input, Typography } from "antd";
import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api, setPortalToken } from "../api";
import { applyFieldErrors, LanguageButton } from "../basics";

// The portal's first page, in a bundle of its own: a customer who only looks an order up downloads
// nothing of the order, case and survey pages (web/src/portal/Portal.tsx).

export const shell = (children: ReactNode, title: string) => (
  <div className="dd-portal" style={{ maxWidth: 520, margin: "0 auto", padding: 12 }}>
    <header style={{ display: "flex", justifyContent: "space-between", alignItems: "center", marginBottom: 12 }}>
      <Typography.Title level={1} style={{ margin: 0, fontSize: 20 }}>
        {title}
      </Typography.Title>
      <LanguageButton />
    </header>
    <main>{children}</main>
  </div>
);

export function Lookup() {
  const { t } = useTranslation();
  const nav = useNavigate();
  const [form] = Form.useForm();
  const [error, setError] = useState<string | null>(null);
  return shell(
    <div style={{ background: "#fff", border: "1px solid #f0f0f0", borderRadius: 8, padding: 24 }}>
      <Form
        form={form}
        layout="vertical"
        onFinish={async (v) => {
          try {
            const r = await api<{ token: string }>("POST", "/portal/api/lookup", v);
            setPortalToken(r.token);
            nav("/portal/order");
          } catch (e) {
            applyFieldErrors(form, e);
            // The API answers in English; the customer reads the screen's language.
            const status = (e as { status?: number }).status;
            setError(status === 404 ? t("lookupNotFound") : status === 429 ? t("tooManyTries") : (e as Error).message);
          }
        }}
      >
        <Form.Item name="platformOrderNo" label={t("orderNo")} rules={[{ required: true }]}>
          <Input inputMode="text" />
        </Form.Item>
        <Form.Item name="phoneLast4" label={t("phoneLast4")} rules={[{ required: true, pattern: /^\d{4}$/ }]}>
          <Input inputMode="numeric" maxLength={4} />
        </Form.Item>
        {error && <Alert type="error" title={error} style={{ marginBottom: 12 }} />}
        <Button type="primary" htmlType="submit" block>
          {t("findOrder")}
        </Button>
      </Form>
    </div>,
    t("portalTitle"),
  );
}
