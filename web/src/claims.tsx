import { Button, Space } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, money } from "./api";
import { NoteDialog, useConfirm } from "./shared";

/**
 * A supplier claim's actions (accept, dispute, settle, cancel), for finance in the console and for
 * the supplier in its portal: each says what it does and asks first; a dispute asks for the reason.
 */
export function ClaimActions({ claim, onDone }: { claim: { id: string; amount: number; allowedActions: string[] }; onDone: () => void }) {
  const { t } = useTranslation();
  const confirm = useConfirm();
  const [disputing, setDisputing] = useState(false);
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
      <NoteDialog
        open={disputing}
        title={t("claimAction.dispute")}
        what={t("claim.disputeWhat", { amount })}
        send={(note) => api("POST", path("dispute"), { note })}
        done={t("case.done", { action: t("claimAction.dispute") })}
        onClose={(sent) => {
          setDisputing(false);
          if (sent) onDone();
        }}
      />
    </Space>
  );
}
