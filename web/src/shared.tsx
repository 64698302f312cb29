import { useQuery } from "@tanstack/react-query";
import { Alert, App, Button, Card, Empty, Form, Input, Modal, Spin, Tag, Typography } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, api } from "./api";
import { applyFieldErrors, LanguageButton } from "./basics";

export { applyFieldErrors, LanguageButton };

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
    // Signed out is an answer (user null), not a failed request.
    queryFn: async () => (await api<{ user: Me | null }>("GET", "/api/v1/auth/session")).user,
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
  if (q.isLoading) return <Spin description={t("loading")} style={{ display: "block", margin: 32 }} />;
  if (q.error) return <Alert type="error" showIcon title={(q.error as Error).message} />;
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

/** Puts the API's field errors under the form's fields, or shows its message when none names a field. */
export function reportError(
  form: { setFields: (f: { name: string; errors: string[] }[]) => void },
  message: { error: (text: string) => unknown },
  e: unknown,
) {
  applyFieldErrors(form, e);
  if (!(e instanceof ApiError && e.fields.length)) message.error((e as Error).message);
}

/**
 * A dialog that says what an action does and asks for the note it needs (a dispute's reason, a
 * refused cancellation's): OK sends it, the API's field errors show under the note, success closes it.
 */
export function NoteDialog({
  open,
  title,
  what,
  send,
  done,
  onClose,
}: {
  open: boolean;
  title: string;
  what: string;
  send: (note: string) => Promise<unknown>;
  done: string;
  onClose: (sent: boolean) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  return (
    <Modal open={open} title={title} onCancel={() => onClose(false)} onOk={() => form.submit()} okText={t("confirm.ok")} destroyOnHidden>
      <Typography.Paragraph>{what}</Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        onFinish={async (v) => {
          try {
            await send(v.note);
            message.success(done);
            onClose(true);
          } catch (e) {
            reportError(form, message, e);
          }
        }}
      >
        <Form.Item name="note" label={t("field.note")} rules={[{ required: true, whitespace: true }]}>
          <Input.TextArea rows={2} />
        </Form.Item>
      </Form>
    </Modal>
  );
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

/**
 * Asks before anything that moves money or cannot be undone: a dialog saying what will happen,
 * then the request, then a toast. Resolves true when it ran.
 */
export function useConfirm() {
  const { modal, message } = App.useApp();
  const { t } = useTranslation();
  return (o: { title: string; content: ReactNode; run: () => Promise<unknown>; done: string; danger?: boolean }) =>
    new Promise<boolean>((resolve) => {
      modal.confirm({
        title: o.title,
        content: o.content,
        okText: t("confirm.ok"),
        cancelText: t("confirm.cancel"),
        okButtonProps: { danger: o.danger, ...({ "data-testid": "confirm-ok" } as object) },
        onOk: async () => {
          try {
            await o.run();
            message.success(o.done);
            resolve(true);
          } catch (e) {
            message.error((e as Error).message);
            resolve(false);
          }
        },
        onCancel: () => resolve(false),
      });
    });
}
