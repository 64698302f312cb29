import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, AutoComplete, Button, Card, Descriptions, Form, Input, Select, Space, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { CARRIER_ALIASES, CARRIER_NAMES, CARRIERS, carrierCode } from "../../src/domain/vocabulary";
import { ApiError, api } from "./api";

/**
 * Every carrier field: the carrier list (快递100 codes, by their names in the screen's language),
 * typed into or picked from; a carrier outside the list is still taken as typed.
 */
export function CarrierInput(props: {
  id?: string;
  value?: string;
  onChange?: (v: string) => void;
  style?: React.CSSProperties;
  "data-testid"?: string;
}) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language === "en" ? "en" : "zh-CN";
  const typed = (props.value ?? "").trim().toLowerCase();
  const options = CARRIERS.filter(
    (c) =>
      !typed ||
      c.includes(typed) ||
      CARRIER_NAMES[c]["zh-CN"].toLowerCase().includes(typed) ||
      CARRIER_NAMES[c].en.toLowerCase().includes(typed) ||
      (CARRIER_ALIASES[c] ?? []).some((a) => a.includes(typed)),
  ).map((c) => ({ value: CARRIER_NAMES[c][locale], label: CARRIER_NAMES[c][locale] }));
  return (
    <AutoComplete value={props.value} onChange={props.onChange} options={options} style={props.style}>
      {/* The input itself, so that its id (the form label's), test id and placeholder sit on the element typed into. */}
      <Input id={props.id} placeholder={t("carriers.pick")} data-testid={props["data-testid"]} />
    </AutoComplete>
  );
}

/** A carrier as typed, shown by its name when it is one of the list. */
export function carrierLabel(t: (k: string) => string, text: string | null | undefined) {
  const code = carrierCode(text);
  return code ? t(`carrier.${code}`) : (text ?? "—");
}

type Address = { name?: string; phone?: string; province?: string; city?: string; district?: string; line1?: string };
const addressLine = (a: Address | null | undefined) =>
  a ? [a.province, a.city, a.district, a.line1, a.name, a.phone].filter(Boolean).join(" ") : "";

/** Opens the return slip (PDF) of a case; the portal's token goes as a header, so it is fetched first. */
async function openSlip(path: string) {
  const token = sessionStorage.getItem("dd_portal_token");
  const res = await fetch(path, {
    headers: token && path.startsWith("/portal/") ? { authorization: `Bearer ${token}` } : {},
    credentials: "same-origin",
  });
  if (!res.ok) throw new ApiError(res.status, "error", res.statusText, [], {});
  const url = URL.createObjectURL(await res.blob());
  window.open(url, "_blank", "noopener");
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * For an approved return: where it goes, the printable return slip, and a courier pickup booked
 * through 快递100 — or, without one, the customer sends it and enters the tracking number.
 */
export function ReturnPickup({
  caseId,
  base,
  returnAddress,
  onChange,
}: {
  caseId: string;
  base: "/portal/api" | "/api/v1";
  returnAddress: Address | null;
  onChange: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const key = ["pickup", base, caseId];
  const q = useQuery({ queryKey: key, queryFn: () => api<{ pickup: any }>("GET", `${base}/cases/${caseId}/pickup`) });
  const reload = () => {
    void qc.invalidateQueries({ queryKey: key });
    onChange();
  };
  const pickup = q.data?.pickup;
  const live = pickup && (pickup.status === "booked" || pickup.status === "picked_up");
  return (
    <Card size="small" title={t("carriers.returnTitle")} data-testid="return-pickup">
      <Space orientation="vertical" style={{ width: "100%" }}>
        {returnAddress && <Alert type="info" title={`${t("carriers.returnTo")}：${addressLine(returnAddress)}`} />}
        <Button
          block
          data-testid="return-slip"
          onClick={() => openSlip(`${base}/cases/${caseId}/return-slip.pdf`).catch((e) => message.error((e as Error).message))}
        >
          {t("carriers.slip")}
        </Button>
        {live ? (
          <>
            <Descriptions size="small" column={1} bordered>
              <Descriptions.Item label={t("carriers.pickupStatus")}>
                <Tag data-status={pickup.status}>{t(`carriers.status.${pickup.status}`)}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t("carrier")}>{t(`carrier.${pickup.carrier}`)}</Descriptions.Item>
              <Descriptions.Item label={t("trackingNo")}>{pickup.trackingNo ?? "—"}</Descriptions.Item>
              <Descriptions.Item
                label={t("carriers.slot")}
              >{`${t(`carriers.day.${pickup.day}`)} ${pickup.startTime}–${pickup.endTime}`}</Descriptions.Item>
              {pickup.courierName && (
                <Descriptions.Item label={t("carriers.courier")}>{`${pickup.courierName} ${pickup.courierMobile ?? ""}`}</Descriptions.Item>
              )}
            </Descriptions>
            {pickup.allowedActions.includes("cancel") && (
              <Button
                danger
                block
                data-testid="cancel-pickup"
                onClick={async () => {
                  try {
                    await api("POST", `${base}/cases/${caseId}/pickup/cancel`, {});
                    reload();
                  } catch (e) {
                    message.error((e as Error).message);
                  }
                }}
              >
                {t("carriers.cancel")}
              </Button>
            )}
          </>
        ) : (
          <Form
            form={form}
            name="pickup"
            layout="vertical"
            initialValues={{ day: "明天", startTime: "09:00", endTime: "11:00" }}
            onFinish={async (v) => {
              try {
                await api("POST", `${base}/cases/${caseId}/pickup`, {
                  carrier: v.carrier,
                  day: v.day,
                  startTime: v.startTime,
                  endTime: v.endTime,
                  address: { name: v.name, phone: v.phone, province: v.province, city: v.city, district: v.district, line1: v.line1 },
                });
                message.success(t("carriers.booked"));
                reload();
              } catch (e) {
                message.error((e as Error).message);
              }
            }}
          >
            <Alert type="success" showIcon title={t("carriers.pickupHint")} style={{ marginBottom: 12 }} />
            <Form.Item name="carrier" label={t("carriers.pickupCarrier")} rules={[{ required: true }]}>
              <CarrierInput data-testid="pickup-carrier" />
            </Form.Item>
            <Space.Compact block>
              <Form.Item name="name" label={t("carriers.name")} rules={[{ required: true }]} style={{ width: "50%" }}>
                <Input />
              </Form.Item>
              <Form.Item name="phone" label={t("carriers.phone")} rules={[{ required: true }]} style={{ width: "50%" }}>
                <Input inputMode="tel" />
              </Form.Item>
            </Space.Compact>
            <Space.Compact block>
              <Form.Item name="province" label={t("carriers.province")} style={{ width: "33%" }}>
                <Input />
              </Form.Item>
              <Form.Item name="city" label={t("carriers.city")} style={{ width: "33%" }}>
                <Input />
              </Form.Item>
              <Form.Item name="district" label={t("carriers.district")} style={{ width: "34%" }}>
                <Input />
              </Form.Item>
            </Space.Compact>
            <Form.Item name="line1" label={t("carriers.line1")} rules={[{ required: true }]}>
              <Input />
            </Form.Item>
            <Space.Compact block>
              <Form.Item name="day" label={t("carriers.slot")} style={{ width: "40%" }}>
                <Select options={["今天", "明天", "后天"].map((d) => ({ value: d, label: t(`carriers.day.${d}`) }))} />
              </Form.Item>
              <Form.Item name="startTime" label=" " style={{ width: "30%" }} rules={[{ required: true, pattern: /^\d{2}:\d{2}$/ }]}>
                <Input placeholder="09:00" />
              </Form.Item>
              <Form.Item name="endTime" label=" " style={{ width: "30%" }} rules={[{ required: true, pattern: /^\d{2}:\d{2}$/ }]}>
                <Input placeholder="11:00" />
              </Form.Item>
            </Space.Compact>
            <Button type="primary" htmlType="submit" block data-testid="book-pickup">
              {t("carriers.book")}
            </Button>
            {pickup?.status === "failed" && (
              <Alert style={{ marginTop: 8 }} type="warning" title={pickup.message ?? t("carriers.status.failed")} />
            )}
          </Form>
        )}
      </Space>
    </Card>
  );
}
