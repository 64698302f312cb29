import { createCase } from "../after-sales/case.create.js";
import { runCaseAction } from "../after-sales/case.service.js";
import { runSupplierOrderAction } from "../fulfilment/supplier-order.service.js";
import { createOrder, runOrderAction } from "../orders/order.service.js";
import type { Actor, Deps } from "../platform/context.js";
import { newId } from "../platform/ids.js";
import type { DemoSeeder } from "./seed.js";

const DAY = 86400_000;

async function shopAndCatalog(deps: Deps, a: Actor) {
  const db = deps.db;
  const shopId = newId();
  await db
    .insertInto("shops")
    .values({
      id: shopId,
      tenant_id: a.tenantId,
      name: "小鹿家居旗舰店",
      platform: "taobao",
      timezone: "Asia/Shanghai",
      currency: "CNY",
      warehouse_address: JSON.stringify({
        name: "小鹿仓",
        phone: "0571-88880000",
        province: "浙江",
        city: "杭州",
        district: "余杭",
        line1: "仓前街道 8 号",
      }),
    })
    .execute();
  const suppliers = [
    { name: "义乌优品工厂", terms: { acceptsReturns: true, returnWindowDays: 15, claimDeadlineDays: 30 } },
    { name: "广州织造", terms: { acceptsReturns: true, coversCompensation: true } },
    { name: "深圳数码批发", terms: { acceptsReturns: false, claimDeadlineDays: 7 } },
  ];
  const supplierIds: string[] = [];
  for (const [i, s] of suppliers.entries()) {
    const id = newId();
    supplierIds.push(id);
    await db
      .insertInto("suppliers")
      .values({
        id,
        tenant_id: a.tenantId,
        name: s.name,
        contact_name: ["王经理", "李小姐", "陈先生"][i],
        phone: `1380000000${i}`,
        email: `supplier${i}@example.com`,
        return_address: JSON.stringify({
          name: s.name,
          phone: `1380000000${i}`,
          province: ["浙江", "广东", "广东"][i],
          city: ["义乌", "广州", "深圳"][i],
          line1: `工业园 ${i + 1} 号`,
        }),
        terms: JSON.stringify(s.terms),
      })
      .execute();
  }
  const products = [
    {
      title: "陶瓷马克杯",
      category: "home",
      code: "MUG-WHITE",
      price: 3900,
      offers: [
        [0, 1500, 1],
        [2, 1300, 0],
      ],
    },
    { title: "纯棉T恤", category: "apparel", code: "TEE-M", price: 9900, offers: [[1, 4000, 1]] },
    { title: "蓝牙耳机", category: "activation", code: "BUDS-1", price: 19900, offers: [[2, 9000, 1]] },
    { title: "一次性口罩 50 只", category: "hygiene_sealed", code: "MASK-50", price: 2990, offers: [[0, 900, 0]] },
    { title: "定制姓名抱枕", category: "custom_made", code: "PILLOW-NAME", price: 12900, offers: [[1, 5000, 0]] },
  ] as const;
  for (const p of products) {
    const productId = newId();
    const skuId = newId();
    await db.insertInto("products").values({ id: productId, tenant_id: a.tenantId, title: p.title, category: p.category }).execute();
    await db
      .insertInto("skus")
      .values({ id: skuId, tenant_id: a.tenantId, product_id: productId, sku_code: p.code, title: p.title, price: p.price })
      .execute();
    for (const [si, cost, priority] of p.offers) {
      await db
        .insertInto("offers")
        .values({
          id: newId(),
          tenant_id: a.tenantId,
          supplier_id: supplierIds[si],
          sku_id: skuId,
          supplier_sku: `S-${p.code}`,
          cost,
          stock: 500,
          lead_time_days: 2,
          priority,
        })
        .execute();
    }
  }
  return { shopId, supplierIds };
}

const names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄丽", "周杰", "吴婷", "徐鹏", "孙悦"];

/** A small living business: a shop, three suppliers, orders in every state and cases in many. */
export const demoSeeder: DemoSeeder = {
  name: "shop, suppliers, catalog, orders, cases and refunds",
  async run(ctx) {
    const { deps, actor: a } = ctx;
    const { shopId } = await shopAndCatalog(deps, a);
    const now = deps.clock.now().getTime();
    const skus: [string, number][] = [
      ["MUG-WHITE", 3900],
      ["TEE-M", 9900],
      ["BUDS-1", 19900],
      ["MASK-50", 2990],
      ["PILLOW-NAME", 12900],
    ];
    const orders: { id: string; lines: { id: string; skuCode: string }[] }[] = [];
    for (let i = 0; i < 24; i++) {
      const [code, price] = skus[i % skus.length];
      const qty = 1 + (i % 3);
      const shipping = i % 4 === 0 ? 800 : 0;
      const phone = `139${String(10000000 + i * 7919).slice(0, 8)}`;
      const { order } = await createOrder(deps, a, {
        shopId,
        platformOrderNo: `TB${20261100000 + i}`,
        customer: { name: names[i % names.length], phone, email: `buyer${i}@example.com` },
        address: {
          name: names[i % names.length],
          phone,
          province: "上海",
          city: "上海",
          district: "浦东",
          line1: `世纪大道 ${100 + i} 号`,
        },
        lines: [
          {
            skuCode: code,
            quantity: qty,
            unitPrice: price,
            discount: 0,
            isGift: false,
            giftPrice: 0,
            noReasonReturnWaived: code === "BUDS-1" && i % 2 === 0,
          },
        ],
        discounts: [],
        shippingFee: shipping,
        paid: {
          amount: qty * price + shipping,
          method: i % 3 === 0 ? "wechat" : "alipay",
          reference: `PAY${i}`,
          paidAt: new Date(now - (10 - (i % 10)) * DAY).toISOString(),
        },
      });
      orders.push(order);
      const stage = i % 6; // 0 paid, 1 forwarded, 2 shipped, 3-5 delivered
      if (stage === 0) continue;
      const fwd = await runOrderAction(deps, a, order.id, "forward", {});
      if (stage === 1) continue;
      for (const so of fwd.supplierOrders) {
        await runSupplierOrderAction(deps, a, so.id, "accept", {});
        await runSupplierOrderAction(deps, a, so.id, "ship", { carrier: "顺丰", trackingNo: `SF${1400000000 + i}` });
        if (stage >= 3)
          await runSupplierOrderAction(deps, a, so.id, "deliver", { deliveredAt: new Date(now - (stage - 2) * DAY).toISOString() });
      }
    }
    // Cases in many states.
    const delivered = orders.filter((o, i) => i % 6 >= 3 && ["MUG-WHITE", "TEE-M"].includes(o.lines[0].skuCode));
    const plans: { type: string; reason: string; steps: [string, Record<string, unknown>][] }[] = [
      { type: "return_refund", reason: "quality", steps: [] },
      { type: "return_refund", reason: "changed_mind", steps: [["ship-return", { carrier: "中通", trackingNo: "ZT5550001" }]] },
      {
        type: "return_refund",
        reason: "quality",
        steps: [
          ["approve", {}],
          ["ship-return", { carrier: "圆通", trackingNo: "YT5550002" }],
          ["receive", {}],
          ["inspect", { grade: "repairable", matchesOrder: true, complete: true, disposition: "return_to_supplier" }],
          ["refund", { method: "balance" }],
          ["resolve", {}],
          ["close", {}],
        ],
      },
      { type: "exchange", reason: "size_fit", steps: [["approve", {}]] },
      { type: "reship", reason: "missing_item", steps: [["approve", {}]] },
      {
        type: "compensation",
        reason: "damaged_in_transit",
        steps: [["offer-compensation", { kind: "coupon", amount: 500, note: "破损补偿" }]],
      },
      { type: "refund_only", reason: "not_received", steps: [["request-info", { note: "请提供快递柜取件记录" }]] },
      {
        type: "return_refund",
        reason: "wrong_item",
        steps: [
          ["approve", {}],
          ["receive", {}],
          ["inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "restock" }],
        ],
      },
    ];
    for (const [i, plan] of plans.entries()) {
      const order = delivered[i % delivered.length];
      try {
        const c = await createCase(deps, a, {
          orderId: order.id,
          type: plan.type as never,
          reason: plan.reason as never,
          lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          description: "演示售后单",
          channel: i % 2 ? "portal" : "phone",
        });
        for (const [action, input] of plan.steps) {
          const cur = await deps.db.selectFrom("cases").select("status").where("id", "=", c.id).executeTakeFirstOrThrow();
          if (action === "approve" && cur.status !== "submitted") continue;
          await runCaseAction(deps, a, c.id, action as never, input);
        }
      } catch (e) {
        // Demo data is a convenience: a plan the policy refuses is skipped, not fatal.
        if (process.env.DROPDESK_DEMO_STRICT) throw e;
      }
    }
  },
};
