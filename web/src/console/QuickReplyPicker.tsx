// The quick-reply (快捷短语) picker: the tenant's texts of one purpose, rendered on the server for
// the case (or order) when picked. The composer uses it for messages, the reject and request-info
// dialogs for their notes. Imports nothing else of the console, so the portal's bundle stays small.
import { useQuery } from "@tanstack/react-query";
import { App, Select } from "antd";
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
      data-testid={testId}
      value={value}
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
