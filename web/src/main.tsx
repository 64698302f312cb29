import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App as AntApp, ConfigProvider, Spin } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { useTranslation } from "react-i18next";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import "./i18n";
import { theme } from "./theme";

// Each face is its own bundle: the portal never loads the console's code.
const Console = lazy(() => import("./console/Console"));
const Portal = lazy(() => import("./portal/Portal"));
const PortalLookup = lazy(() => import("./portal/Lookup").then((m) => ({ default: m.Lookup })));
const Supplier = lazy(() => import("./supplier/Supplier"));

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

function Root() {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider locale={i18n.language === "en" ? enUS : zhCN} theme={theme}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <Suspense fallback={<Spin style={{ margin: 48 }} />}>
              <Routes>
                {/* A link from a message carries the order's token (#t=…): the portal takes it, not the lookup. */}
                <Route path="/portal" element={window.location.hash.includes("t=") ? <Portal /> : <PortalLookup />} />
                <Route path="/portal/*" element={<Portal />} />
                <Route path="/supplier/*" element={<Supplier />} />
                <Route path="/*" element={<Console />} />
              </Routes>
            </Suspense>
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
