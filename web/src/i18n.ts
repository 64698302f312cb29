import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import enTexts from "./locales/en.json";
import { vocabularyTexts } from "./locales/vocabulary";
import zh from "./locales/zh-CN.json";

// The dictionaries: the screens' texts from one JSON file per locale, and the names of every
// status, type, reason, … from the domain vocabulary the server uses too.
const en: Record<keyof typeof zh, string> = enTexts;
const dictionaries = {
  "zh-CN": { ...zh, ...vocabularyTexts("zh-CN") },
  en: { ...en, ...vocabularyTexts("en") },
};

export const LANG_KEY = "dd_lang";
void i18n.use(initReactI18next).init({
  resources: { "zh-CN": { translation: dictionaries["zh-CN"] }, en: { translation: dictionaries.en } },
  lng: localStorage.getItem(LANG_KEY) ?? "zh-CN",
  fallbackLng: "zh-CN",
  interpolation: { escapeValue: false },
});

export function toggleLanguage() {
  const next = i18n.language === "en" ? "zh-CN" : "en";
  localStorage.setItem(LANG_KEY, next);
  void i18n.changeLanguage(next);
  document.documentElement.lang = next;
}

export default i18n;
