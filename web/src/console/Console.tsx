import { useQueryClient } from "@tanstack/react-query";
import { Button, Layout, Menu, Space, Spin, Typography } from "antd";
import { type ComponentType, lazy, Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api";
import { LanguageButton, Loadable, LoginForm, useMe } from "../shared";
import { CaseQueueBadge } from "./CaseQueues";
import { UnreadBadge } from "./Conversation";

// Each screen is its own chunk, loaded when it is first opened: signing in downloads none of them,
// and ECharts comes with the dashboard and analytics only.
const screen = <M,>(load: () => Promise<M>, pick: (m: M) => ComponentType) => lazy(() => load().then((m) => ({ default: pick(m) })));
const pages = () => import("./Pages");
const money = () => import("./Money");
const AnalyticsPanel = lazy(() => import("./Analytics"));
const AuditLog = lazy(() => import("./Audit"));
const CaseDetail = lazy(() => import("./CaseDetail"));
const Complaints = lazy(() => import("./Complaints"));
const Connectors = lazy(() => import("./Connectors"));
const ImportOrders = lazy(() => import("./Import"));
const Policy = lazy(() => import("./Policy"));
const Reports = lazy(() => import("./Reports"));
const Warehouse = lazy(() => import("./Warehouse"));
const ToRefund = lazy(() => import("./ToRefund"));
const Automation = screen(money, (m) => m.Automation);
const ClaimsAndStatements = screen(money, (m) => m.ClaimsAndStatements);
const Cases = screen(pages, (m) => m.Cases);
const Dashboard = screen(pages, (m) => m.Dashboard);
const Finance = screen(pages, (m) => m.Finance);
const OrderDetail = screen(pages, (m) => m.OrderDetail);
const Orders = screen(pages, (m) => m.Orders);
const Settings = screen(pages, (m) => m.Settings);
const Suppliers = screen(pages, (m) => m.Suppliers);

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
              <Typography.Title level={1} style={{ padding: 16, margin: 0, fontSize: 16 }}>
                {t("appName")}
              </Typography.Title>
              <Menu
                selectedKeys={[key]}
                onClick={(e) => nav(e.key)}
                items={[
                  { key: "/", label: t("dashboard") },
                  { key: "/analytics", label: t("an.title") },
                  {
                    key: "/cases",
                    label: (
                      <CaseQueueBadge>
                        <UnreadBadge>{t("cases")}</UnreadBadge>
                      </CaseQueueBadge>
                    ),
                  },
                  { key: "/complaints", label: t("cp.title") },
                  { key: "/orders", label: t("orders") },
                  { key: "/imports", label: t("importOrders") },
                  { key: "/warehouse", label: t("warehouse") },
                  { key: "/to-refund", label: t("queue.inspected") },
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
                    {user.name} · {t(`role.${user.role}`, { defaultValue: user.role })}
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
                <Suspense fallback={<Spin style={{ display: "block", margin: 48 }} />}>
                  <Routes>
                    <Route
                      path="/"
                      element={
                        // Each role lands where its work is: the warehouse on its returns, finance on the refunds to make.
                        user.role === "warehouse" ? (
                          <Navigate to="/warehouse" replace />
                        ) : user.role === "finance" ? (
                          <Navigate to="/to-refund" replace />
                        ) : (
                          <>
                            <Dashboard />
                            <AnalyticsPanel />
                          </>
                        )
                      }
                    />
                    <Route path="/to-refund" element={<ToRefund />} />
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
                </Suspense>
              </Layout.Content>
            </Layout>
          </Layout>
        );
      }}
    </Loadable>
  );
}
