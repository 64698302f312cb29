import { useQuery } from "@tanstack/react-query";
import type { UploadFile } from "antd";
import { Alert, Button, Card, Form, Progress, Select, Space, Table, Upload } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { csvRow } from "../../../src/platform/csv";
import { ApiError, api } from "../api";
import i18n from "../i18n";
import { Loadable } from "../shared";
import type { Page, Shop } from "../types";

i18n.addResourceBundle(
  "zh-CN",
  "translation",
  {
    importOrders: "导入订单",
    importFormat: "格式",
    importFile: "CSV 文件",
    importStart: "开始导入",
    importStatus: "状态",
    importTotals: "共 {{total}} 行：导入 {{imported}}，跳过 {{skipped}}，失败 {{failed}}",
    importErrors: "错误报告",
    importDownload: "下载错误报告",
    importLine: "行号",
    importField: "字段",
    importMessage: "原因",
    importShop: "店铺",
  },
  true,
  false,
);
i18n.addResourceBundle(
  "en",
  "translation",
  {
    importOrders: "Import orders",
    importFormat: "Format",
    importFile: "CSV file",
    importStart: "Start import",
    importStatus: "Status",
    importTotals: "{{total}} rows: {{imported}} imported, {{skipped}} skipped, {{failed}} failed",
    importErrors: "Error report",
    importDownload: "Download the error report",
    importLine: "Line",
    importField: "Field",
    importMessage: "Reason",
    importShop: "Shop",
  },
  true,
  false,
);

interface ImportState {
  id: string;
  status: string;
  total: number;
  imported: number;
  skipped: number;
  failed: number;
  errors: { line: number; field: string; message: string }[];
}

/** CSV import of orders: upload, a progress bar fed by polling the import, and a downloadable error report. */
export default function ImportOrders() {
  const { t } = useTranslation();
  const shops = useQuery({ queryKey: ["shops"], queryFn: () => api<Page<Shop>>("GET", "/api/v1/shops") });
  const [file, setFile] = useState<UploadFile | null>(null);
  const [importId, setImportId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const job = useQuery({
    queryKey: ["import", importId],
    enabled: Boolean(importId),
    queryFn: () => api<ImportState>("GET", `/api/v1/imports/${importId}`),
    refetchInterval: (q) => (q.state.data && ["done", "failed"].includes(q.state.data.status) ? false : 500),
  });
  const d = job.data;
  const finished = d ? d.status === "done" || d.status === "failed" : false;
  const percent = d?.total ? Math.round(((d.imported + d.skipped + d.failed) / d.total) * 100) : 0;
  const report = () => {
    const rows = [["line", "field", "message"], ...(d?.errors ?? []).map((e) => [e.line, e.field, e.message])];
    // The same escaping as the server's exports: a message quoting a cell such as `=HYPERLINK(…)` is not a formula.
    const blob = new Blob([`\uFEFF${rows.map((r) => csvRow(r, { quoteAll: true })).join("\n")}\n`], { type: "text/csv" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `import-errors-${importId}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <Card title={t("importOrders")}>
      <Loadable q={shops}>
        {(s) => (
          <Form
            layout="inline"
            initialValues={{ format: "generic", shopId: s.items?.[0]?.id }}
            onFinish={async (v) => {
              if (!file?.originFileObj) return;
              setBusy(true);
              setError(null);
              try {
                const fd = new FormData();
                fd.append("format", v.format);
                fd.append("shopId", v.shopId);
                fd.append("file", file.originFileObj);
                const r = await api<{ id: string }>("POST", "/api/v1/orders/import", fd);
                setImportId(r.id);
              } catch (e) {
                setError(e instanceof ApiError && e.fields.length ? e.fields.map((f) => `${f.field}: ${f.message}`).join("; ") : String(e));
              } finally {
                setBusy(false);
              }
            }}
          >
            <Form.Item name="shopId" label={t("importShop")} rules={[{ required: true }]}>
              <Select style={{ width: 180 }} options={(s.items ?? []).map((x: any) => ({ value: x.id, label: x.name }))} />
            </Form.Item>
            <Form.Item name="format" label={t("importFormat")}>
              <Select
                style={{ width: 120 }}
                options={[
                  { value: "generic", label: "CSV" },
                  { value: "shopify", label: "Shopify" },
                ]}
              />
            </Form.Item>
            <Form.Item label={t("importFile")}>
              <Upload
                accept=".csv,text/csv"
                maxCount={1}
                beforeUpload={() => false}
                onChange={(i) => setFile(i.fileList[0] ?? null)}
                fileList={file ? [file] : []}
              >
                <Button>{t("importFile")}</Button>
              </Upload>
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={busy} disabled={!file} data-testid="import-start">
              {t("importStart")}
            </Button>
          </Form>
        )}
      </Loadable>
      {error && <Alert type="error" title={error} style={{ marginTop: 16 }} />}
      {job.error ? <Alert type="error" title={String(job.error)} style={{ marginTop: 16 }} /> : null}
      {d && (
        <Space orientation="vertical" style={{ width: "100%", marginTop: 16 }} data-testid="import-progress" data-status={d.status}>
          <Progress percent={finished ? 100 : percent} status={finished ? (d.failed ? "exception" : "success") : "active"} />
          <div data-testid="import-totals">
            {t("importStatus")}: {d.status} ·{" "}
            {t("importTotals", { total: d.total, imported: d.imported, skipped: d.skipped, failed: d.failed })}
          </div>
          {d.errors.length > 0 && (
            <>
              <Button onClick={report} data-testid="import-report">
                {t("importDownload")}
              </Button>
              <Table
                rowKey={(e) => `${e.line}:${e.field}:${e.message}`}
                size="small"
                title={() => t("importErrors")}
                dataSource={d.errors}
                pagination={{ pageSize: 20 }}
                columns={[
                  { title: t("importLine"), dataIndex: "line" },
                  { title: t("importField"), dataIndex: "field" },
                  { title: t("importMessage"), dataIndex: "message" },
                ]}
              />
            </>
          )}
        </Space>
      )}
    </Card>
  );
}
