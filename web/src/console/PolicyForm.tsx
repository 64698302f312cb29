// The policy rules as a form: windows, excluded categories, freight, conditions, automatic
// decisions, deadlines. Amounts are shown in yuan and sent in fen; the API's field errors land on
// the fields they name. Per-category windows stay in the JSON view.
import { Button, Card, Col, Form, InputNumber, Row, Select, Space, Switch, Typography } from "antd";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { CONDITION_FLAGS } from "../../../src/domain/vocabulary";
import { ApiError } from "../api";

const CATEGORIES = [
  "general",
  "home",
  "apparel",
  "electronics",
  "hygiene_sealed",
  "activation",
  "clearance",
  "custom_made",
  "perishable",
  "digital",
  "periodical",
];
/** Amount fields: fen in the rules, yuan in the form. `null` means "never" where the rules allow it. */
const MONEY: string[][] = [
  ["freight", "standardShippingFee"],
  ["auto", "approveNoReasonReturnUpTo"],
  ["auto", "keepItemUpTo"],
  ["defaultReturnFreight"],
];

type Rules = Record<string, any>;
const get = (o: Rules, path: string[]) => path.reduce<any>((x, k) => x?.[k], o);
const set = (o: Rules, path: string[], v: unknown) => {
  const last = path[path.length - 1];
  const parent = path.slice(0, -1).reduce<any>((x, k) => x[k], o);
  parent[last] = v;
};

function toForm(rules: Rules): Rules {
  const v = structuredClone(rules);
  for (const p of MONEY) {
    const fen = get(v, p);
    set(v, p, fen === null || fen === undefined ? null : fen / 100);
  }
  return v;
}

function fromForm(base: Rules, values: Rules): Rules {
  const v: Rules = { ...structuredClone(base), ...structuredClone(values), preset: "custom" };
  for (const key of ["windows", "freight", "conditions", "auto", "sla"]) v[key] = { ...base[key], ...values[key] };
  for (const p of MONEY) {
    const yuan = get(v, p);
    set(v, p, yuan === null || yuan === undefined || yuan === "" ? null : Math.round(Number(yuan) * 100));
  }
  return v;
}

export function PolicyForm({ rules, saving, onSave }: { rules: Rules; saving: boolean; onSave: (rules: Rules) => Promise<unknown> }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  useEffect(() => {
    form.resetFields();
    form.setFieldsValue(toForm(rules));
  }, [rules, form]);
  const days = (name: string[], label: string, max = 3650) => (
    <Form.Item name={name} label={label} rules={[{ required: true }]}>
      <InputNumber min={0} max={max} precision={0} suffix={t("pf.days")} style={{ width: "100%" }} />
    </Form.Item>
  );
  const yuan = (name: string[], label: string, nullable = false) => (
    <Form.Item
      name={name}
      label={label}
      rules={nullable ? [] : [{ required: true }]}
      extra={nullable ? t("pf.emptyMeansNever") : undefined}
    >
      <InputNumber min={0} precision={2} prefix="¥" style={{ width: "100%" }} />
    </Form.Item>
  );
  const toggle = (name: string[], label: string) => (
    <Form.Item name={name} label={label} valuePropName="checked">
      <Switch />
    </Form.Item>
  );
  const choice = (name: string[], label: string, options: string[]) => (
    <Form.Item name={name} label={label} rules={[{ required: true }]}>
      <Select options={options.map((o) => ({ value: o, label: t(`pf.opt.${o}`) }))} />
    </Form.Item>
  );
  const tags = (name: string[], label: string, options: readonly string[], free = true) => (
    <Form.Item name={name} label={label}>
      <Select
        mode={free ? "tags" : "multiple"}
        options={options.map((o) => ({ value: o, label: t(free ? `category.${o}` : `pf.flag.${o}`, { defaultValue: o }) }))}
        tokenSeparators={[",", " "]}
      />
    </Form.Item>
  );
  return (
    <Form
      form={form}
      layout="vertical"
      data-testid="policy-form"
      onFinish={async (values) => {
        try {
          await onSave(fromForm(rules, values));
        } catch (e) {
          if (e instanceof ApiError && e.fields.length)
            form.setFields(
              e.fields
                .filter((f) => f.field)
                .map((f) => ({ name: f.field.replace(/^(body\.)?rules\./, "").split("."), errors: [f.message] })),
            );
        }
      }}
    >
      <Space orientation="vertical" style={{ width: "100%" }} size="small">
        <Card size="small" title={t("pf.windows")}>
          <Row gutter={12}>
            <Col xs={12} md={6}>
              {days(["windows", "noReasonReturnDays"], t("pf.noReasonReturnDays"), 365)}
            </Col>
            <Col xs={12} md={6}>
              {days(["windows", "qualityReturnDays"], t("pf.qualityReturnDays"), 365)}
            </Col>
            <Col xs={12} md={6}>
              {days(["windows", "qualityExchangeDays"], t("pf.qualityExchangeDays"))}
            </Col>
            <Col xs={12} md={6}>
              {days(["windows", "repairDays"], t("pf.repairDays"))}
            </Col>
          </Row>
          <Typography.Text type="secondary">{t("pf.windowsNote")}</Typography.Text>
        </Card>
        <Card size="small" title={t("pf.categories")}>
          <Row gutter={12}>
            <Col xs={24} md={12}>
              {tags(["excludedCategories"], t("pf.excludedCategories"), CATEGORIES)}
            </Col>
            <Col xs={24} md={12}>
              {tags(["waivableCategories"], t("pf.waivableCategories"), CATEGORIES)}
            </Col>
          </Row>
        </Card>
        <Card size="small" title={t("pf.freight")}>
          <Row gutter={12}>
            <Col xs={24} md={12}>
              {choice(["freight", "noReasonReturn"], t("pf.noReasonReturn"), ["customer", "merchant"])}
            </Col>
            <Col xs={24} md={12}>
              {choice(["freight", "noReasonExchange"], t("pf.noReasonExchange"), ["customer_both", "customer_return_only", "merchant"])}
            </Col>
            <Col xs={12} md={8}>
              {toggle(["freight", "refundShippingOnNoReasonFullReturn"], t("pf.refundShipping"))}
            </Col>
            <Col xs={12} md={8}>
              {toggle(["freight", "partialReturnLosesFreeShipping"], t("pf.partialLosesFreeShipping"))}
            </Col>
            <Col xs={12} md={8}>
              {yuan(["freight", "standardShippingFee"], t("pf.standardShippingFee"))}
            </Col>
            <Col xs={12} md={8}>
              {yuan(["defaultReturnFreight"], t("pf.defaultReturnFreight"))}
            </Col>
            <Col xs={12} md={8}>
              {choice(["returnDestination"], t("pf.returnDestination"), ["supplier", "warehouse"])}
            </Col>
          </Row>
        </Card>
        <Card size="small" title={t("pf.conditions")}>
          <Row gutter={12}>
            <Col xs={24} md={12}>
              {tags(["conditions", "refuseNoReasonWhen"], t("pf.refuseNoReasonWhen"), CONDITION_FLAGS, false)}
            </Col>
            <Col xs={24} md={12}>
              {tags(["conditions", "refuseAnyWhen"], t("pf.refuseAnyWhen"), CONDITION_FLAGS, false)}
            </Col>
          </Row>
        </Card>
        <Card size="small" title={t("pf.auto")}>
          <Row gutter={12}>
            <Col xs={12} md={8}>
              {toggle(["auto", "approveRefundOnlyBeforeShipping"], t("pf.approveRefundOnlyBeforeShipping"))}
            </Col>
            <Col xs={12} md={8}>
              {toggle(["auto", "refuseOutsideWindows"], t("pf.refuseOutsideWindows"))}
            </Col>
            <Col xs={12} md={8}>
              {toggle(["auto", "keepItemWhenReturnCostsMore"], t("pf.keepItemWhenReturnCostsMore"))}
            </Col>
            <Col xs={12} md={12}>
              {yuan(["auto", "approveNoReasonReturnUpTo"], t("pf.approveNoReasonReturnUpTo"), true)}
            </Col>
            <Col xs={12} md={12}>
              {yuan(["auto", "keepItemUpTo"], t("pf.keepItemUpTo"), true)}
            </Col>
          </Row>
        </Card>
        <Card size="small" title={t("pf.sla")}>
          <Row gutter={12}>
            <Col xs={12} md={8}>
              <Form.Item name={["sla", "merchantResponseHours"]} label={t("pf.merchantResponseHours")} rules={[{ required: true }]}>
                <InputNumber min={1} max={720} precision={0} suffix={t("pf.hours")} style={{ width: "100%" }} />
              </Form.Item>
            </Col>
            <Col xs={12} md={8}>
              {choice(["sla", "onResponseExpiry"], t("pf.onResponseExpiry"), ["approve", "escalate"])}
            </Col>
            <Col xs={12} md={8}>
              {days(["sla", "customerReturnShipDays"], t("pf.customerReturnShipDays"), 60)}
            </Col>
            <Col xs={12} md={8}>
              {days(["sla", "refundDueDays"], t("pf.refundDueDays"), 60)}
            </Col>
            <Col xs={12} md={8}>
              {toggle(["sla", "autoRefundWhenDue"], t("pf.autoRefundWhenDue"))}
            </Col>
            <Col xs={12} md={8}>
              {days(["sla", "supplierClaimAnswerDays"], t("pf.supplierClaimAnswerDays"), 60)}
            </Col>
          </Row>
        </Card>
        <Button type="primary" htmlType="submit" loading={saving} data-testid="policy-form-save">
          {t("saveNewVersion")}
        </Button>
      </Space>
    </Form>
  );
}
