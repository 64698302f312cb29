// The audit log: who changed what and when, with the values before and after; admins and finance.
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Button, Col, Input, Row, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { api, when } from "../api";
import { auditActionName, auditEntityName } from "../names";
import { Loadable, useMe } from "../shared";
import type { Page, User } from "../types";

interface Entry {
  id: string;
  actorType: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  before: unknown;
  after: unknown;
  at: string;
}

/** Where an audited entity can be opened in the console. */
const ENTITY_PATHS: Record<string, string> = { case: "/cases/", order: "/orders/" };

function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <pre style={{ margin: 0, maxHeight: 320, overflow: "auto", fontSize: 12, whiteSpace: "pre-wrap" }}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** The top-level fields whose value differs between before and after. */
function changes(before: unknown, after: unknown): { key: string; from: unknown; to: unknown }[] {
  if (!before || !after || typeof before !== "object" || typeof after !== "object") return [];
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .map((k) => ({ key: k, from: b[k], to: a[k] }));
}

const short = (v: unknown) => {
  const s = v === undefined ? "—" : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

export default function AuditLog() {
  const { t } = useTranslation();
  const me = useMe();
  const [entityType, setEntityType] = useState("");
  const [action, setAction] = useState("");
  const filters = new URLSearchParams({ limit: "50", ...(entityType && { entityType }), ...(action && { action }) });
  const users = useQuery({
    queryKey: ["users"],
    queryFn: () => api<Page<User>>("GET", "/api/v1/users?limit=200"),
    enabled: me.data?.role === "admin",
  });
  const names = new Map<string, string>((users.data?.items ?? []).map((u: any) => [u.id, u.name || u.email]));
  const q = useInfiniteQuery({
    queryKey: ["audit-log", entityType, action],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      api<{ items: Entry[]; nextCursor: string | null }>("GET", `/api/v1/audit-log?${filters}${pageParam ? `&cursor=${pageParam}` : ""}`),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.items) ?? [];
  // Cases and orders by their business numbers (AS…, TB…), not by an id's first characters.
  const ids = [...new Set(rows.map((e) => e.entityId).filter((id): id is string => Boolean(id)))].slice(0, 200).join(",");
  const numbers =
    useQuery({
      queryKey: ["entity-numbers", ids],
      queryFn: () => api<{ numbers: Record<string, string> }>("GET", `/api/v1/case-queue/numbers?ids=${ids}`),
      enabled: Boolean(ids),
    }).data?.numbers ?? {};
  const numberOf = (id: string | null) => (id ? (numbers[id] ?? id.slice(0, 8)) : "");
  const csv = new URLSearchParams(filters);
  csv.delete("limit");
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t("audit.title")}
      </Typography.Title>
      <Space wrap>
        <Input.Search
          allowClear
          aria-label={t("audit.entityType")}
          placeholder={t("audit.entityType")}
          style={{ width: 200 }}
          onSearch={(v) => setEntityType(v.trim())}
        />
        <Input.Search
          allowClear
          aria-label={t("audit.action")}
          placeholder={t("audit.actionHint")}
          style={{ width: 260 }}
          onSearch={(v) => setAction(v.trim())}
        />
        <Button href={`/api/v1/audit-log?${csv}&format=csv`}>{t("exportCsv")}</Button>
      </Space>
      <Loadable q={{ isLoading: q.isLoading, error: q.error, data: q.data ? rows : undefined }}>
        {(items) => (
          <>
            <Table<Entry>
              size="small"
              rowKey="id"
              dataSource={items}
              pagination={false}
              data-testid="audit-table"
              expandable={{
                expandedRowRender: (e) => (
                  <Row gutter={[16, 8]}>
                    {changes(e.before, e.after).length > 0 && (
                      <Col span={24} data-testid="audit-changes">
                        <Typography.Text strong>{t("audit.changed")}</Typography.Text>
                        {changes(e.before, e.after).map((c) => (
                          <div key={c.key}>
                            <Typography.Text code>{c.key}</Typography.Text> {short(c.from)} → {short(c.to)}
                          </div>
                        ))}
                      </Col>
                    )}
                    <Col span={12}>
                      <Typography.Text strong>{t("audit.before")}</Typography.Text>
                      <Json value={e.before} />
                    </Col>
                    <Col span={12}>
                      <Typography.Text strong>{t("audit.after")}</Typography.Text>
                      <Json value={e.after} />
                    </Col>
                  </Row>
                ),
              }}
              columns={[
                { title: t("audit.at"), dataIndex: "at", render: (v: string) => when(v), width: 190 },
                {
                  title: t("audit.actor"),
                  render: (_, e) => (
                    <Space size={4}>
                      <Tag>{t(`audit.actorType.${e.actorType}`, { defaultValue: t("audit.entity.other") })}</Tag>
                      {e.actorId ? (names.get(e.actorId) ?? e.actorId) : "—"}
                    </Space>
                  ),
                },
                {
                  title: t("audit.action"),
                  dataIndex: "action",
                  render: (v: string) => (
                    <Tag color="blue" title={v} data-action={v}>
                      {auditActionName(t, v)}
                    </Tag>
                  ),
                },
                {
                  title: t("audit.entity"),
                  render: (_, e) =>
                    e.entityId && ENTITY_PATHS[e.entityType] ? (
                      <Link to={`${ENTITY_PATHS[e.entityType]}${e.entityId}`}>
                        {auditEntityName(t, e.entityType)} {numberOf(e.entityId)}
                      </Link>
                    ) : (
                      `${auditEntityName(t, e.entityType)} ${numberOf(e.entityId)}`
                    ),
                },
              ]}
            />
            {q.hasNextPage && (
              <Button onClick={() => void q.fetchNextPage()} loading={q.isFetchingNextPage}>
                {t("audit.more")}
              </Button>
            )}
          </>
        )}
      </Loadable>
    </Space>
  );
}
