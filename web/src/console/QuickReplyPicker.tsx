// Quick replies (快捷短语): the picker, which offers the tenant's texts of one purpose rendered on
// the server for the case (or order) when picked — the composer uses it for messages, the reject
// and request-info dialogs for their notes — and the manager of the tenant's list. Imports nothing
// else of the console, so the portal's bundle stays small.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Input, List, Modal, Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../api";

export type QuickReplyPurpose = "message" | "reject" | "request_info";

export function QuickReplyPicker({
  purpose,
  target,
  value,
  onPick,
  testId = "quick-reply",
}: {
  purpose: QuickReplyPurpose;
  /** The case or order the text is rendered for. */
  target?: { caseId?: string; orderId?: string };
  value?: string;
  /** Called with the chosen quick reply and its rendered text (no text when cleared). */
  onPick: (id: string | undefined, text?: string) => void;
  testId?: string;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const replies = useQuery({
    queryKey: ["quick-replies", purpose],
    queryFn: () => api<{ items: { id: string; title: string }[] }>("GET", `/api/v1/quick-replies?purpose=${purpose}`),
  });
  return (
    <Select
      allowClear
      style={{ width: "100%" }}
      placeholder={t("cv.quickReply")}
      aria-label={t("cv.quickReply")}
      data-testid={testId}
      value={value}
      // Opened only once the list is in (also when a cached list is being fetched again): a list
      // that arrives while it is open moves under the pointer.
      loading={replies.isFetching}
      disabled={replies.isFetching}
      notFoundContent={t("cv.noQuickReplies")}
      options={(replies.data?.items ?? []).map((r) => ({ value: r.id, label: r.title }))}
      onChange={async (id?: string) => {
        if (!id) return onPick(undefined);
        try {
          const r = await api<{ body: string }>("POST", `/api/v1/quick-replies/${id}/actions/render`, target ?? {});
          onPick(id, r.body);
        } catch (e) {
          message.error((e as Error).message);
        }
      }}
    />
  );
}

/** The tenant's quick replies: list, add, remove (text with {{variables}}). */
export function QuickReplyManager() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const q = useQuery({
    queryKey: ["quick-replies", "all"],
    queryFn: () =>
      api<{ items: { id: string; title: string; body: string; purpose: string }[]; variables: string[] }>("GET", "/api/v1/quick-replies"),
    enabled: open,
  });
  const reload = () => void qc.invalidateQueries({ queryKey: ["quick-replies"] });
  return (
    <>
      <Button onClick={() => setOpen(true)} data-testid="manage-quick-replies">
        {t("cv.manage")}
      </Button>
      <Modal open={open} title={t("cv.quickReplies")} footer={null} onCancel={() => setOpen(false)} destroyOnHidden>
        <List
          size="small"
          dataSource={q.data?.items ?? []}
          renderItem={(r) => (
            <List.Item
              actions={[
                <Button
                  key="del"
                  size="small"
                  danger
                  onClick={async () => {
                    await api("DELETE", `/api/v1/quick-replies/${r.id}`);
                    reload();
                  }}
                >
                  {t("cv.remove")}
                </Button>,
              ]}
            >
              <List.Item.Meta title={`${r.title} · ${t(`cv.purpose.${r.purpose}`)}`} description={r.body} />
            </List.Item>
          )}
        />
        <Form
          form={form}
          layout="vertical"
          initialValues={{ purpose: "message" }}
          onFinish={async (v) => {
            try {
              await api("POST", "/api/v1/quick-replies", v);
              form.resetFields();
              reload();
            } catch (e) {
              message.error((e as Error).message);
            }
          }}
        >
          <Form.Item name="title" label={t("cv.title")} rules={[{ required: true }]}>
            <Input data-testid="qr-title" />
          </Form.Item>
          <Form.Item
            name="body"
            label={t("cv.text")}
            rules={[{ required: true }]}
            extra={(q.data?.variables ?? []).map((v) => `{{${v}}}`).join(" ")}
          >
            <Input.TextArea rows={3} data-testid="qr-body" />
          </Form.Item>
          <Form.Item name="purpose" label={t("cv.use")}>
            <Select options={["message", "reject", "request_info"].map((p) => ({ value: p, label: t(`cv.purpose.${p}`) }))} />
          </Form.Item>
          <Button htmlType="submit" type="primary" data-testid="qr-save">
            {t("cv.add")}
          </Button>
        </Form>
      </Modal>
    </>
  );
}
