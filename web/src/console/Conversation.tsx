// Conversations: one thread (list + composer) used by the console, the customer portal and the
// supplier portal, and the console's panel with the case's three threads as tabs. Kept free of
// other console modules but QuickReplyPicker, so the portal's bundle takes only these two files.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Badge, Button, Card, Drawer, Image, Input, List, Space, Tabs, Tag, Typography, Upload } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useNavigate } from "react-router-dom";
import { ApiError, api, when } from "../api";
import { QuickReplyManager, QuickReplyPicker } from "./QuickReplyPicker";

type Visibility = "customer" | "supplier" | "internal";
interface Attachment {
  id: string;
  kind: "image" | "video";
  url: string;
  filename: string | null;
}
interface Message {
  id: string;
  visibility: Visibility;
  body: string;
  author: { kind: string; name: string };
  createdAt: string;
  readAt: string | null;
  unread: boolean;
  attachments: Attachment[];
}

/** The portal sends its token as a header, which an <img> cannot: portal files are fetched and shown from memory. */
function useFileUrl(url: string) {
  const portal = url.startsWith("/portal/api");
  const [src, setSrc] = useState<string | null>(portal ? null : url);
  useEffect(() => {
    if (!portal) return;
    let made: string | null = null;
    const token = sessionStorage.getItem("dd_portal_token");
    void fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (!b) return;
        made = URL.createObjectURL(b);
        setSrc(made);
      });
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [url, portal]);
  return src;
}

function AttachmentView({ a }: { a: Attachment }) {
  const src = useFileUrl(a.url);
  if (!src) return null;
  return a.kind === "image" ? (
    <Image src={src} width={120} alt={a.filename ?? ""} data-testid="message-image" />
  ) : (
    <video src={src} controls width={200} data-testid="message-video">
      <track kind="captions" />
    </video>
  );
}

const mineOf = (base: string) => (base.startsWith("/portal/api") ? "customer" : undefined);

/**
 * One thread: its messages oldest first (refreshed every few seconds), read on opening, and a
 * composer with photos/videos and, for staff, quick replies rendered for this case before sending.
 */
export function Thread({
  base,
  visibility,
  side,
  target,
}: {
  /** `/api/v1/cases/:id`, `/api/v1/orders/:id`, `/portal/api/cases/:id` or `/portal/api` (the order's own thread). */
  base: string;
  visibility: Visibility;
  side: "staff" | "customer" | "supplier";
  /** For quick replies: the case or order they are rendered for. */
  target?: { caseId?: string; orderId?: string };
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const key = ["messages", base, visibility];
  const q = useQuery({
    queryKey: key,
    queryFn: () => api<{ items: Message[] }>("GET", `${base}/messages?visibility=${visibility}`),
    refetchInterval: 5000,
  });
  const [text, setText] = useState("");
  const [quickReplyId, setQuickReplyId] = useState<string | undefined>();
  const [files, setFiles] = useState<{ id: string; name: string }[]>([]);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const unread = (q.data?.items ?? []).filter((m) => m.unread).length;
  useEffect(() => {
    if (!unread) return;
    void api("POST", `${base}/messages/actions/read`, { visibility }).then(() => {
      void qc.invalidateQueries({ queryKey: ["messages"] });
      void qc.invalidateQueries({ queryKey: ["unread"] });
    });
  }, [unread, base, visibility, qc]);
  const send = async () => {
    setSending(true);
    setError(null);
    try {
      await api("POST", `${base}/messages`, {
        body: text,
        ...(side === "staff" && { visibility }),
        ...(quickReplyId && { quickReplyId }),
        ...(files.length && { attachments: files.map((f) => f.id) }),
      });
      setText("");
      setQuickReplyId(undefined);
      setFiles([]);
      void qc.invalidateQueries({ queryKey: key });
    } catch (e) {
      setError(e instanceof ApiError && e.fields[0]?.field === "body" ? t("cv.bodyRequired") : (e as Error).message);
    } finally {
      setSending(false);
    }
  };
  const mine = mineOf(base) ?? side;
  const internal = visibility === "internal";
  // The portals are used on phones: every control is a finger's size (44 px) and the text box's
  // 16 px text keeps iOS from zooming in on it.
  const touch = side !== "staff";
  const tap = touch ? { minHeight: 44, minWidth: 44 } : undefined;
  return (
    <div data-testid={`thread-${visibility}`}>
      {internal && (
        <Typography.Paragraph type="warning" data-testid="internal-hint">
          {t("cv.internalHint")}
        </Typography.Paragraph>
      )}
      <List
        size="small"
        locale={{ emptyText: t("cv.empty") }}
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        renderItem={(m) => {
          const own = m.author.kind === mine || (mine === "staff" && m.author.kind === "system");
          return (
            <List.Item
              style={{ justifyContent: own ? "flex-end" : "flex-start", border: "none", padding: "4px 0" }}
              data-testid="message"
              data-author={m.author.kind}
            >
              <div
                style={{
                  maxWidth: "85%",
                  padding: "6px 10px",
                  borderRadius: 8,
                  background: internal ? "#fffbe6" : own ? "#fff2e8" : "#f5f5f5",
                  border: internal ? "1px dashed #faad14" : "none",
                  overflowWrap: "anywhere",
                }}
              >
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {m.author.name || t(`cv.author.${m.author.kind}`)} · {when(m.createdAt)}
                  {own && side === "staff" && !internal && (m.readAt ? ` · ${t("cv.read")}` : ` · ${t("cv.unread")}`)}
                </Typography.Text>
                <div style={{ whiteSpace: "pre-wrap" }} data-testid="message-body">
                  {m.body}
                </div>
                {m.attachments.length > 0 && (
                  <Space wrap style={{ marginTop: 4 }}>
                    {m.attachments.map((a) => (
                      <AttachmentView key={a.id} a={a} />
                    ))}
                  </Space>
                )}
              </div>
            </List.Item>
          );
        }}
      />
      <Space orientation="vertical" style={{ width: "100%", marginTop: 8 }}>
        {side === "staff" && (
          <Space.Compact style={{ width: "100%" }}>
            <QuickReplyPicker
              purpose="message"
              target={target}
              value={quickReplyId}
              onPick={(id, body) => {
                setQuickReplyId(id);
                if (body !== undefined) setText(body);
              }}
            />
            <QuickReplyManager />
          </Space.Compact>
        )}
        <Input.TextArea
          rows={3}
          maxLength={20000}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={internal ? t("cv.notePlaceholder") : t("cv.placeholder")}
          style={touch ? { fontSize: 16 } : undefined}
          data-testid="composer"
        />
        <Space wrap>
          <Upload
            accept="image/*,video/*"
            showUploadList={false}
            beforeUpload={async (f) => {
              const fd = new FormData();
              fd.append("file", f);
              try {
                const r = await api<{ id: string }>("POST", `${base}/messages/attachments`, fd);
                setFiles((x) => [...x, { id: r.id, name: f.name }]);
              } catch (e) {
                message.error(e instanceof ApiError && e.status === 415 ? t("cv.fileRefused") : (e as Error).message);
              }
              return false;
            }}
          >
            <Button data-testid="attach" style={tap}>
              {t("cv.attach")}
            </Button>
          </Upload>
          {files.map((f) => {
            const drop = () => setFiles((x) => x.filter((y) => y.id !== f.id));
            return touch ? (
              <Button key={f.id} style={tap} onClick={drop} aria-label={`${t("cv.remove")} ${f.name}`}>
                {f.name} ✕
              </Button>
            ) : (
              <Tag key={f.id} closable onClose={drop}>
                {f.name}
              </Tag>
            );
          })}
          <Button type="primary" onClick={send} loading={sending} disabled={!text.trim()} style={tap} data-testid="send">
            {internal ? t("cv.addNote") : t("cv.send")}
          </Button>
        </Space>
        {error && <Typography.Text type="danger">{error}</Typography.Text>}
      </Space>
    </div>
  );
}

/** The case's three threads as tabs on the console's case page; the internal notes look apart. */
export default function ConversationPanel({ caseId, hasSupplier }: { caseId: string; hasSupplier: boolean }) {
  const { t } = useTranslation();
  const base = `/api/v1/cases/${caseId}`;
  const all = useQuery({
    queryKey: ["messages", base, "all"],
    queryFn: () => api<{ items: Message[] }>("GET", `${base}/messages`),
    refetchInterval: 5000,
  });
  const unread = (v: Visibility) => (all.data?.items ?? []).filter((m) => m.visibility === v && m.unread).length;
  const tab = (v: Visibility, label: string) => ({
    key: v,
    label: (
      <Badge count={unread(v)} size="small" offset={[8, -2]}>
        <span data-testid={`tab-${v}`}>{label}</span>
      </Badge>
    ),
    children: <Thread base={base} visibility={v} side="staff" target={{ caseId }} />,
  });
  return (
    <Card size="small" title={t("cv.panel")} data-testid="conversation">
      <Tabs
        items={[
          tab("customer", t("cv.customer")),
          ...(hasSupplier ? [tab("supplier", t("cv.supplier"))] : []),
          tab("internal", t("cv.internal")),
        ]}
      />
    </Card>
  );
}

/** The console's badge: messages from customers and suppliers that no staff member has read. */
export function UnreadBadge({ children }: { children: React.ReactNode }) {
  const q = useQuery({
    queryKey: ["unread", "staff"],
    queryFn: () => api<{ total: number }>("GET", "/api/v1/messages/unread"),
    refetchInterval: 15000,
  });
  return (
    <Badge count={q.data?.total ?? 0} size="small" offset={[10, 0]} data-testid="unread-badge">
      {children}
    </Badge>
  );
}

/** The customer's unread count for one case, beside it on the portal's order page. */
export function PortalUnread({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ["unread", "portal"],
    queryFn: () => api<{ byCase: Record<string, number> }>("GET", "/portal/api/messages/unread"),
  });
  const n = q.data?.byCase[caseId] ?? 0;
  return n ? (
    <Tag color="volcano" data-testid="portal-unread">
      {t("cv.newMessages", { count: n })}
    </Tag>
  ) : null;
}

function ThreadDrawer({ caseId, title, open, onClose }: { caseId: string; title: string; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Drawer
      open={open}
      width={Math.min(window.innerWidth, 520)}
      title={`${title} · ${t("cv.withMerchant")}`}
      onClose={onClose}
      closable={false}
      extra={
        <Button onClick={onClose} style={{ minHeight: 44, minWidth: 44 }} data-testid="close-thread">
          {t("cv.close")}
        </Button>
      }
      destroyOnHidden
    >
      <Thread base={`/api/v1/cases/${caseId}`} visibility="supplier" side="supplier" />
    </Drawer>
  );
}

/** The supplier portal's button for one case's thread, with its unread count; the thread fills a phone's screen. */
export function SupplierThread({ caseId, caseNo, unread }: { caseId: string; caseNo: string; unread: number }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Badge count={unread} size="small">
        <Button onClick={() => setOpen(true)} style={{ minHeight: 44, minWidth: 44 }} data-testid={`open-thread-${caseNo}`}>
          {t("cv.messages")}
        </Button>
      </Badge>
      <ThreadDrawer caseId={caseId} title={caseNo} open={open} onClose={() => setOpen(false)} />
    </>
  );
}

/** `/supplier/cases/:id` (the link in the supplier's e-mail) opens that case's thread over the portal. */
export function SupplierLinkedThread() {
  const loc = useLocation();
  const nav = useNavigate();
  const id = /^\/supplier\/cases\/([0-9a-f-]{36})$/.exec(loc.pathname)?.[1];
  const c = useQuery({
    queryKey: ["case", id],
    queryFn: () => api<{ caseNo: string }>("GET", `/api/v1/cases/${id}`),
    enabled: Boolean(id),
  });
  if (!id) return null;
  return <ThreadDrawer caseId={id} title={c.data?.caseNo ?? ""} open onClose={() => nav("/supplier")} />;
}

/** The customer's thread on the portal's case page. */
export function PortalThread({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  return (
    <Card size="small" title={t("cv.withService")} data-testid="portal-thread">
      <Thread base={`/portal/api/cases/${caseId}`} visibility="customer" side="customer" />
    </Card>
  );
}
