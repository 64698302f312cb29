import { Button } from "antd";
import { useTranslation } from "react-i18next";
import { ApiError } from "./api";
import { toggleLanguage } from "./i18n";

// The few helpers the portal's lookup page needs, apart from web/src/shared.tsx so that page does not
// download the components the other screens share (cards, tabs, menus).

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
