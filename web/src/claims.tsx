import { App, Button, Form, Input, Modal, Space, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, money } from "./api";
import { reportError, useConfirm } from "./shared";

/**
 * A supplier claim's actions (accept, dispute, settle, cancel), for finance in the console and for
 * the supplier in its portal: each says what it does and asks first; a dispute asks for the reason.
 */
export function ClaimActions({ claim, onDone }: { claim: { id: string; amount: number; allowedActions: string[] }; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const [disputing, setDisputing] = useState(false);
  const [form] = Form.useForm();
  const amount = money(claim.amount);
  const path = (a: string) => `/api/v1/supplier-claims/${claim.id}/actions/${a}`;
  return (
    <Space>
      {claim.allowedActions.map((a) => (
        <Button
          key={a}
          size="small"
          data-action={a}
          danger={a === "cancel"}
          onClick={() =>
            a === "dispute"
              ? setDisputing(true)
              : void confirm({
                  title: t(`claimAction.${a}`, { defaultValue: t("action.other") }),
                  content: t(`claim.${a}What`, { amount, defaultValue: amount }),
                  run: () => api("POST", path(a), {}),
                  done: t("case.done", { action: t(`claimAction.${a}`, { defaultValue: t("action.other") }) }),
                }).then((ran) => ran && onDone())
          }
        >
          {t(`claimAction.${a}`, { defaultValue: t("action.other") })}
        </Button>
      ))}
      <Modal
        open={disputing}
        title={t("claimAction.dispute")}
        onCancel={() => setDisputing(false)}
        onOk={() => form.submit()}
        okText={t("confirm.ok")}
        destroyOnHidden
      >
        <Typography.Paragraph>{t("claim.disputeWhat", { amount })}</Typography.Paragraph>
        <Form
          form={form}
          layout="vertical"
          onFinish={async (v) => {
            try {
              await api("POST", path("dispute"), { note: v.note });
              message.success(t("case.done", { action: t("claimAction.dispute") }));
              setDisputing(false);
              onDone();
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
    </Space>
  );
}
