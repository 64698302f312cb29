import { useQuery } from "@tanstack/react-query";
import { Alert, Button, Card, Empty, Form, Input, Spin, Tag } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, api } from "./api";
import { toggleLanguage } from "./i18n";

export interface Me {
  id: string;
  name: string;
  role: string;
  supplierId: string | null;
  tenant: { name: string };
}

export function useMe() {
  return useQuery<Me | null>({
    queryKey: ["me"],
    queryFn: async () => {
      try {
        return await api<Me>("GET", "/api/v1/auth/me");
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
  });
}

/** Loading, error and empty states for anything fetched. */
export function Loadable<T>({
  q,
  children,
  empty,
}: {
  q: { isLoading: boolean; error: unknown; data: T | undefined };
  children: (d: T) => ReactNode;
  empty?: (d: T) => boolean;
}) {
  const { t } = useTranslation();
  if (q.isLoading) return <Spin tip={t("loading")} style={{ display: "block", margin: 32 }} />;
  if (q.error) return <Alert type="error" showIcon message={(q.error as Error).message} />;
  if (q.data === undefined) return null;
  if (empty?.(q.data)) return <Empty description={t("empty")} />;
  return <>{children(q.data)}</>;
}

const STATUS_COLORS: Record<string, string> = {
  submitted: "gold",
  info_requested: "orange",
  approved: "blue",
  awaiting_return: "cyan",
  return_in_transit: "cyan",
  received: "geekblue",
  inspected: "geekblue",
  refund_pending: "purple",
  refunded: "green",
  resolved: "green",
  closed: "default",
  rejected: "red",
  cancelled: "default",
  offer_pending: "magenta",
  fulfilling: "blue",
};

export function StatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  const label = t(`status.${status}`, { defaultValue: status.replaceAll("_", " ") });
  return (
    <Tag color={STATUS_COLORS[status] ?? "default"} data-status={status}>
      {label}
    </Tag>
  );
}

export function LanguageButton() {
  const { t } = useTranslation();
  return (
    <Button size="small" onClick={toggleLanguage} data-testid="lang">
      {t("language")}
    </Button>
  );
}

/** Maps the API's field errors onto a form's fields. */
export function applyFieldErrors(form: { setFields: (f: { name: string; errors: string[] }[]) => void }, e: unknown) {
  if (e instanceof ApiError && e.fields.length)
    form.setFields(e.fields.map((f) => ({ name: f.field.split(".").pop() ?? f.field, errors: [f.message] })));
}

/** Puts the API's field errors under the form's fields, or shows its message when none names a field. */
export function reportError(
  form: { setFields: (f: { name: string; errors: string[] }[]) => void },
  message: { error: (text: string) => unknown },
  e: unknown,
) {
  applyFieldErrors(form, e);
  if (!(e instanceof ApiError && e.fields.length)) message.error((e as Error).message);
}

export function LoginForm({ onDone, title }: { onDone: () => void; title: string }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  return (
    <div style={{ maxWidth: 380, margin: "10vh auto", padding: 16 }}>
      <Card title={title} extra={<LanguageButton />}>
        <Form
          form={form}
          layout="vertical"
          onFinish={async (v) => {
            try {
              await api("POST", "/api/v1/auth/login", v);
              onDone();
            } catch (e) {
              form.setFields([{ name: "password", errors: [(e as Error).message] }]);
            }
          }}
        >
          <Form.Item name="email" label={t("email")} rules={[{ required: true, type: "email" }]}>
            <Input autoFocus autoComplete="username" />
          </Form.Item>
          <Form.Item name="password" label={t("password")} rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block>
            {t("signIn")}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
