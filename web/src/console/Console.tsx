import { useQueryClient } from "@tanstack/react-query";
import { Button, Layout, Menu, Space, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api";
import { LanguageButton, Loadable, LoginForm, useMe } from "../shared";
import AnalyticsPanel from "./Analytics";
import AuditLog from "./Audit";
import CaseDetail from "./CaseDetail";
import Complaints from "./Complaints";
import Connectors from "./Connectors";
import { UnreadBadge } from "./Conversation";
import ImportOrders from "./Import";
import { Automation, ClaimsAndStatements } from "./Money";
import { Cases, Dashboard, Finance, OrderDetail, Orders, Settings, Suppliers } from "./Pages";
import Policy from "./Policy";
import Reports from "./Reports";
import Warehouse from "./Warehouse";

export default function Console() {
  const { t } = useTranslation();
  const me = useMe();
  const qc = useQueryClient();
  const nav = useNavigate();
  const loc = useLocation();
  return (
    <Loadable q={me}>
      {(user) => {
        if (!user) return <LoginForm title={t("appName")} onDone={() => void qc.invalidateQueries({ queryKey: ["me"] })} />;
        if (user.role === "supplier") {
          nav("/supplier");
          return null;
        }
        const key = `/${loc.pathname.split("/")[1] ?? ""}`;
        return (
          <Layout style={{ minHeight: "100vh" }}>
            <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light">
              <Typography.Title level={5} style={{ padding: 16, margin: 0 }}>
                {t("appName")}
              </Typography.Title>
              <Menu
                selectedKeys={[key]}
                onClick={(e) => nav(e.key)}
                items={[
                  { key: "/", label: t("dashboard") },
                  { key: "/analytics", label: t("an.title") },
                  { key: "/cases", label: <UnreadBadge>{t("cases")}</UnreadBadge> },
                  { key: "/complaints", label: t("cp.title") },
                  { key: "/orders", label: t("orders") },
                  { key: "/imports", label: t("importOrders") },
                  { key: "/warehouse", label: t("warehouse") },
                  { key: "/finance", label: t("finance") },
                  { key: "/claims", label: t("claimsAndStatements") },
                  { key: "/suppliers", label: t("suppliers") },
                  { key: "/policies", label: t("policies") },
                  { key: "/settings", label: t("settings") },
                  { key: "/automation", label: t("automation") },
                  { key: "integrations", label: t("cn.group"), children: [{ key: "/connectors", label: t("cn.menu") }] },
                  { key: "/audit", label: t("audit.title") },
                ]}
              />
            </Layout.Sider>
            <Layout>
              <Layout.Header style={{ background: "#fff", display: "flex", justifyContent: "flex-end", alignItems: "center" }}>
                <Space>
                  <Typography.Text data-testid="whoami">
                    {user.name} · {user.role}
                  </Typography.Text>
                  <LanguageButton />
                  <Button
                    size="small"
                    onClick={async () => {
                      await api("POST", "/api/v1/auth/logout");
                      void qc.invalidateQueries({ queryKey: ["me"] });
                    }}
                  >
                    {t("signOut")}
                  </Button>
                </Space>
              </Layout.Header>
              <Layout.Content style={{ padding: 16 }}>
                <Routes>
                  <Route
                    path="/"
                    element={
                      <>
                        <Dashboard />
                        <AnalyticsPanel />
                      </>
                    }
                  />
                  <Route path="/analytics" element={<Reports />} />
                  <Route path="/cases" element={<Cases />} />
                  <Route path="/complaints" element={<Complaints />} />
                  <Route path="/cases/:id" element={<CaseDetail />} />
                  <Route path="/orders" element={<Orders />} />
                  <Route path="/orders/:id" element={<OrderDetail />} />
                  <Route path="/imports" element={<ImportOrders />} />
                  <Route path="/warehouse" element={<Warehouse />} />
                  <Route path="/finance" element={<Finance />} />
                  <Route path="/suppliers" element={<Suppliers />} />
                  <Route path="/policies" element={<Policy />} />
                  <Route path="/settings" element={<Settings />} />
                  <Route path="/claims" element={<ClaimsAndStatements />} />
                  <Route path="/automation" element={<Automation />} />
                  <Route path="/connectors" element={<Connectors />} />
                  <Route path="/audit" element={<AuditLog />} />
                  <Route path="*" element={<Dashboard />} />
                </Routes>
              </Layout.Content>
            </Layout>
          </Layout>
        );
      }}
    </Loadable>
  );
}
