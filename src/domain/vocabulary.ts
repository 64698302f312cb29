/**
 * The domain's vocabulary: every value a status, type, reason, role, … may take, in order, with its
 * Chinese and English names. The server's zod enums and state tables take their values from here
 * and the web app shows these names, so a value is added, renamed or translated in one place.
 *
 * Plain data with no imports: the web app's bundle (Vite) includes this file as it is.
 */

export type Locale = "zh-CN" | "en";
export const LOCALES = ["zh-CN", "en"] as const satisfies readonly Locale[];
export type Names = Readonly<Record<Locale, string>>;

const n = (zh: string, en: string): Names => ({ "zh-CN": zh, en });
/** The values of a names map, in the order they are written there (a non-empty tuple, as z.enum wants). */
const valuesOf = <V extends string>(names: Record<V, Names>) => Object.keys(names) as unknown as readonly [V, ...V[]];

// ---------------------------------------------------------------- after-sales cases

export const CASE_STATUS_NAMES = {
  submitted: n("待审核", "Submitted"),
  info_requested: n("待补充资料", "Info requested"),
  approved: n("已同意", "Approved"),
  rejected: n("已拒绝", "Rejected"),
  awaiting_return: n("待买家退货", "Awaiting return"),
  return_in_transit: n("退货运输中", "Return in transit"),
  received: n("已收货", "Received"),
  inspected: n("已验货", "Inspected"),
  refund_pending: n("退款中", "Refund pending"),
  refunded: n("已退款", "Refunded"),
  offer_pending: n("待买家确认方案", "Offer pending"),
  fulfilling: n("补发/换货中", "Reshipping"),
  resolved: n("已解决", "Resolved"),
  closed: n("已关闭", "Closed"),
  cancelled: n("已撤销", "Cancelled"),
} satisfies Record<string, Names>;
export const CASE_STATUSES = valuesOf(CASE_STATUS_NAMES);
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const CASE_TYPE_NAMES = {
  refund_only: n("仅退款", "Refund only"),
  return_refund: n("退货退款", "Return & refund"),
  exchange: n("换货", "Exchange"),
  repair: n("维修", "Repair"),
  reship: n("补发", "Reship"),
  compensation: n("补偿", "Compensation"),
} satisfies Record<string, Names>;
export const CASE_TYPES = valuesOf(CASE_TYPE_NAMES);
export type CaseType = (typeof CASE_TYPES)[number];

export const REASON_NAMES = {
  quality: n("质量问题", "Quality problem"),
  damaged_in_transit: n("运输损坏", "Damaged in transit"),
  wrong_item: n("发错货", "Wrong item"),
  missing_item: n("少件/漏发", "Missing item"),
  not_as_described: n("与描述不符", "Not as described"),
  size_fit: n("尺码不合适", "Size / fit"),
  changed_mind: n("七天无理由", "Changed my mind"),
  not_received: n("未收到货", "Not received"),
  late_delivery: n("物流太慢", "Late delivery"),
  other: n("其他", "Other"),
} satisfies Record<string, Names>;
export const REASONS = valuesOf(REASON_NAMES);
export type Reason = (typeof REASONS)[number];

/** Who caused a case (责任方). */
export const RESPONSIBILITY_NAMES = {
  supplier: n("供应商", "Supplier"),
  merchant: n("商家", "Merchant"),
  carrier: n("快递", "Carrier"),
  customer: n("买家", "Customer"),
  undetermined: n("待定", "Undetermined"),
} satisfies Record<string, Names>;
export const RESPONSIBILITIES = valuesOf(RESPONSIBILITY_NAMES);
export type Responsibility = (typeof RESPONSIBILITIES)[number];

/** The warehouse's grade of a returned item at inspection. */
export const INSPECTION_GRADE_NAMES = {
  resellable: n("可二次销售", "Resellable"),
  open_box: n("已拆封", "Open box"),
  repairable: n("可维修", "Repairable"),
  scrap: n("报废", "Scrap"),
} satisfies Record<string, Names>;
export const INSPECTION_GRADES = valuesOf(INSPECTION_GRADE_NAMES);
export type InspectionGrade = (typeof INSPECTION_GRADES)[number];

/** What becomes of a returned item after inspection. */
export const DISPOSITION_NAMES = {
  restock: n("重新入库", "Restock"),
  return_to_supplier: n("退回供应商", "Return to supplier"),
  discount_sale: n("折价销售", "Sell at a discount"),
  repair: n("维修", "Repair"),
  scrap: n("报废", "Scrap"),
} satisfies Record<string, Names>;
export const DISPOSITIONS = valuesOf(DISPOSITION_NAMES);
export type Disposition = (typeof DISPOSITIONS)[number];

/** What a merchant may offer instead of the resolution asked for (补偿方案). */
export const OFFER_KIND_NAMES = {
  coupon: n("优惠券", "Coupon"),
  partial_refund: n("部分退款", "Partial refund"),
  gift: n("赠品", "Gift"),
} satisfies Record<string, Names>;
export const OFFER_KINDS = valuesOf(OFFER_KIND_NAMES);
export type OfferKind = (typeof OFFER_KINDS)[number];

/** What a customer or an inspector can report about returned goods. */
export const CONDITION_FLAG_NAMES = {
  seal_broken: n("封条已拆", "Seal broken"),
  tags_removed: n("吊牌已剪", "Tags removed"),
  activated: n("已激活", "Activated"),
  used: n("已使用", "Used"),
  parts_missing: n("配件缺失", "Parts missing"),
  damaged_by_customer: n("人为损坏", "Damaged by the customer"),
} satisfies Record<string, Names>;
export const CONDITION_FLAGS = valuesOf(CONDITION_FLAG_NAMES);
export type ConditionFlag = (typeof CONDITION_FLAGS)[number];

// ---------------------------------------------------------------- complaints

export const COMPLAINT_STATUS_NAMES = {
  open: n("待处理", "Open"),
  assigned: n("处理中", "Assigned"),
  resolved: n("已处理", "Resolved"),
  closed: n("已关闭", "Closed"),
} satisfies Record<string, Names>;
export const COMPLAINT_STATUSES = valuesOf(COMPLAINT_STATUS_NAMES);
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];

/** How grave a complaint (or an escalated case) is; it sets the complaint's deadline. */
export const SEVERITY_NAMES = {
  low: n("低", "Low"),
  medium: n("中", "Medium"),
  high: n("高", "High"),
  critical: n("紧急", "Critical"),
} satisfies Record<string, Names>;
export const SEVERITIES = valuesOf(SEVERITY_NAMES);
export type Severity = (typeof SEVERITIES)[number];

/** What an entry of the blocklist matches. */
export const BLOCKLIST_KIND_NAMES = {
  phone: n("手机号", "Phone"),
  email: n("邮箱", "Email"),
  customer: n("买家", "Customer"),
} satisfies Record<string, Names>;
export const BLOCKLIST_KINDS = valuesOf(BLOCKLIST_KIND_NAMES);
export type BlocklistKind = (typeof BLOCKLIST_KINDS)[number];

// ---------------------------------------------------------------- orders and fulfilment

export const ORDER_STATUS_NAMES = {
  pending_payment: n("待付款", "Awaiting payment"),
  paid: n("已付款", "Paid"),
  forwarded: n("已转供应商", "Sent to supplier"),
  partially_shipped: n("部分发货", "Partly shipped"),
  shipped: n("已发货", "Shipped"),
  delivered: n("已签收", "Delivered"),
  completed: n("已完成", "Completed"),
  cancelled: n("已取消", "Cancelled"),
} satisfies Record<string, Names>;
export const ORDER_STATUSES = valuesOf(ORDER_STATUS_NAMES);
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** A supplier order (代发单): the part of an order one supplier ships. */
export const SUPPLIER_ORDER_STATUS_NAMES = {
  pending: n("待接单", "Pending"),
  accepted: n("已接单", "Accepted"),
  rejected: n("已拒单", "Rejected"),
  shipped: n("已发货", "Shipped"),
  delivered: n("已签收", "Delivered"),
  cancel_requested: n("申请取消中", "Cancel requested"),
  cancelled: n("已取消", "Cancelled"),
  intercept_requested: n("拦截中", "Intercept requested"),
  intercepted: n("已拦截", "Intercepted"),
  returned: n("已退回", "Returned"),
} satisfies Record<string, Names>;
export const SUPPLIER_ORDER_STATUSES = valuesOf(SUPPLIER_ORDER_STATUS_NAMES);
export type SupplierOrderStatus = (typeof SUPPLIER_ORDER_STATUSES)[number];

/**
 * Carriers (快递公司), keyed by their 快递100 company code (the code the tracking subscription, the
 * push, interception and courier pickup speak). Every carrier field of the API and the web app
 * offers this list; a carrier outside it is still taken as free text, and what was typed is kept.
 */
export const CARRIER_NAMES = {
  shunfeng: n("顺丰速运", "SF Express"),
  yuantong: n("圆通速递", "YTO Express"),
  zhongtong: n("中通快递", "ZTO Express"),
  yunda: n("韵达快递", "Yunda Express"),
  shentong: n("申通快递", "STO Express"),
  jtexpress: n("极兔速递", "J&T Express"),
  ems: n("EMS", "EMS"),
  youzhengguonei: n("邮政快递包裹", "China Post parcel"),
  jd: n("京东物流", "JD Logistics"),
  debangkuaidi: n("德邦快递", "Deppon Express"),
  huitongkuaidi: n("百世快递", "Best Express"),
  zhaijisong: n("宅急送", "ZJS Express"),
  shunfengkuaiyun: n("顺丰快运", "SF Freight"),
  danniao: n("丹鸟", "Danniao"),
  // Cross-border
  emsguoji: n("EMS 国际", "EMS International"),
  youzhengguoji: n("国际包裹（中国邮政）", "China Post International"),
  dhl: n("DHL", "DHL"),
  ups: n("UPS", "UPS"),
  fedex: n("联邦快递 FedEx", "FedEx"),
  tnt: n("TNT", "TNT"),
  usps: n("美国邮政 USPS", "USPS"),
  disifang: n("递四方 4PX", "4PX"),
  yanwen: n("燕文物流", "Yanwen"),
} satisfies Record<string, Names>;
export const CARRIERS = valuesOf(CARRIER_NAMES);
export type Carrier = (typeof CARRIERS)[number];

/** What people write for a carrier besides its code and names: short codes, brands, old names. */
export const CARRIER_ALIASES: Readonly<Partial<Record<Carrier, readonly string[]>>> = {
  shunfeng: ["sf", "sfexpress", "顺丰", "顺丰快递"],
  yuantong: ["yto", "圆通", "圆通快递"],
  zhongtong: ["zto", "中通"],
  yunda: ["yd", "韵达"],
  shentong: ["sto", "申通"],
  jtexpress: ["jt", "j&t", "jnt", "极兔", "极兔快递"],
  ems: ["中国邮政ems", "邮政ems", "ems快递"],
  youzhengguonei: ["邮政", "中国邮政", "邮政包裹", "chinapost", "youzheng"],
  jd: ["jdl", "jdexpress", "京东", "京东快递"],
  debangkuaidi: ["debang", "deppon", "德邦", "德邦物流"],
  huitongkuaidi: ["best", "bestexpress", "百世", "百世汇通", "汇通"],
  zhaijisong: ["zjs", "宅急送快递"],
  shunfengkuaiyun: ["sffreight"],
  emsguoji: ["emsinternational", "国际ems"],
  youzhengguoji: ["chinapostinternational", "国际小包"],
  dhl: ["dhlexpress"],
  fedex: ["联邦快递", "联邦"],
  usps: ["美国邮政"],
  disifang: ["4px", "递四方"],
  yanwen: ["燕文"],
};

const carrierKey = (text: string) =>
  text
    .trim()
    .toLowerCase()
    .replace(/[\s\-_.·（）()]/g, "");
let carrierIndex: Map<string, Carrier> | undefined;

/** The carrier a typed value names — its code, a name in either language or an alias — or null for free text. */
export function carrierCode(text: string | null | undefined): Carrier | null {
  if (!text) return null;
  if (!carrierIndex) {
    carrierIndex = new Map();
    for (const code of CARRIERS) {
      for (const word of [code, CARRIER_NAMES[code]["zh-CN"], CARRIER_NAMES[code].en, ...(CARRIER_ALIASES[code] ?? [])])
        if (!carrierIndex.has(carrierKey(word))) carrierIndex.set(carrierKey(word), code);
    }
  }
  return carrierIndex.get(carrierKey(text)) ?? null;
}

// ---------------------------------------------------------------- money

export const REFUND_STATUS_NAMES = {
  pending: n("待处理", "Pending"),
  processing: n("处理中", "Processing"),
  succeeded: n("已成功", "Succeeded"),
  failed: n("失败", "Failed"),
} satisfies Record<string, Names>;
export const REFUND_STATUSES = valuesOf(REFUND_STATUS_NAMES);
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_KIND_NAMES = {
  case: n("售后退款", "Case refund"),
  cancellation: n("取消退款", "Cancellation"),
  goodwill: n("补偿退款", "Goodwill"),
  compensation: n("补偿", "Compensation"),
} satisfies Record<string, Names>;
export const REFUND_KINDS = valuesOf(REFUND_KIND_NAMES);
export type RefundKind = (typeof REFUND_KINDS)[number];

/** How a refund may be asked to go back: by the original payment route, or to the store balance. */
export const REFUND_METHOD_NAMES = {
  original: n("原路退回", "Original payment"),
  balance: n("退到余额", "Store balance"),
} satisfies Record<string, Names>;
export const REFUND_METHODS = valuesOf(REFUND_METHOD_NAMES);
export type RefundMethod = (typeof REFUND_METHODS)[number];

/** A claim (索赔) on a supplier for a case it caused. */
export const CLAIM_STATUS_NAMES = {
  open: n("待供应商答复", "Open"),
  accepted: n("已接受", "Accepted"),
  disputed: n("有异议", "Disputed"),
  settled: n("已结算", "Settled"),
  cancelled: n("已取消", "Cancelled"),
} satisfies Record<string, Names>;
export const CLAIM_STATUSES = valuesOf(CLAIM_STATUS_NAMES);
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

/** The double-entry ledger's accounts; see src/money/ledger.ts for each one's normal side. */
export const LEDGER_ACCOUNT_NAMES = {
  cash: n("现金", "Cash"),
  revenue: n("销售收入", "Revenue"),
  customer_refunds: n("销售退款", "Customer refunds"),
  refunds_payable: n("应付退款", "Refunds payable"),
  store_credit: n("买家余额", "Store credit"),
  coupons_outstanding: n("未使用优惠券", "Coupons outstanding"),
  cost_of_goods: n("商品成本", "Cost of goods"),
  supplier_payables: n("应付供应商", "Supplier payables"),
  supplier_claims_receivable: n("应收供应商索赔", "Supplier claims receivable"),
  freight_expense: n("运费支出", "Freight expense"),
  compensation_expense: n("补偿支出", "Compensation expense"),
  inventory_returns: n("退货库存", "Returned inventory"),
} satisfies Record<string, Names>;
export const LEDGER_ACCOUNTS = valuesOf(LEDGER_ACCOUNT_NAMES);
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

// ---------------------------------------------------------------- people

/** Roles of staff users and API tokens. */
export const STAFF_ROLE_NAMES = {
  admin: n("管理员", "Administrator"),
  cs: n("客服", "Customer service"),
  warehouse: n("仓库", "Warehouse"),
  finance: n("财务", "Finance"),
  viewer: n("只读", "Viewer"),
} satisfies Record<string, Names>;
export const STAFF_ROLES = valuesOf(STAFF_ROLE_NAMES);
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Roles a user may have: staff, or a supplier's user of the supplier portal. */
export const ROLE_NAMES = { ...STAFF_ROLE_NAMES, supplier: n("供应商", "Supplier") } satisfies Record<string, Names>;
export const ROLES = valuesOf(ROLE_NAMES);
export type Role = (typeof ROLES)[number];

// ---------------------------------------------------------------- all of it

/** Every list above by name, for the web app's dictionaries and the test that checks every name. */
export const VOCABULARY = {
  caseStatus: CASE_STATUS_NAMES,
  caseType: CASE_TYPE_NAMES,
  reason: REASON_NAMES,
  responsibility: RESPONSIBILITY_NAMES,
  inspectionGrade: INSPECTION_GRADE_NAMES,
  disposition: DISPOSITION_NAMES,
  offerKind: OFFER_KIND_NAMES,
  conditionFlag: CONDITION_FLAG_NAMES,
  complaintStatus: COMPLAINT_STATUS_NAMES,
  severity: SEVERITY_NAMES,
  blocklistKind: BLOCKLIST_KIND_NAMES,
  orderStatus: ORDER_STATUS_NAMES,
  supplierOrderStatus: SUPPLIER_ORDER_STATUS_NAMES,
  carrier: CARRIER_NAMES,
  refundStatus: REFUND_STATUS_NAMES,
  refundKind: REFUND_KIND_NAMES,
  refundMethod: REFUND_METHOD_NAMES,
  claimStatus: CLAIM_STATUS_NAMES,
  ledgerAccount: LEDGER_ACCOUNT_NAMES,
  role: ROLE_NAMES,
} as const satisfies Record<string, Record<string, Names>>;
export type VocabularyList = keyof typeof VOCABULARY;

/** The name of a value in a locale; the value itself when the list does not know it. */
export function nameOf(list: VocabularyList, value: string, locale: Locale): string {
  return (VOCABULARY[list] as Record<string, Names>)[value]?.[locale] ?? value;
}
