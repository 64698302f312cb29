import type { DemoSeeder } from "../demo/seed.js";
import type { OrderInput } from "../orders/order.schemas.js";
import { createOrder, runOrderAction } from "../orders/order.service.js";
import { newId } from "../platform/ids.js";
import { runSupplierOrderAction } from "./supplier-order.service.js";

const DAY = 86_400_000;

/**
 * Orders in the fulfilment states the base demo leaves out: awaiting payment, partly shipped,
 * completed, cancelled, a cancel the supplier refused, an intercepted parcel, a late supplier
 * order and an order that needs sourcing (a SKU nobody offers).
 */
export const fulfilmentDemoSeeder: DemoSeeder = {
  name: "orders in every fulfilment state",
  async run(ctx) {
    const { deps, actor: a } = ctx;
    const shop = await deps.db.selectFrom("shops").select("id").where("tenant_id", "=", a.tenantId).orderBy("id").executeTakeFirst();
    const skus = await deps.db.selectFrom("skus").select(["sku_code", "price"]).where("tenant_id", "=", a.tenantId).execute();
    const price = new Map(skus.map((s) => [s.sku_code as string, Number(s.price)]));
    if (!shop || !price.has("MUG-WHITE") || !price.has("TEE-M")) return;
    // A SKU without any offer, so that one order waits for sourcing.
    const productId = newId();
    await deps.db
      .insertInto("products")
      .values({ id: productId, tenant_id: a.tenantId, title: "限量版帆布包", category: "general" })
      .execute();
    await deps.db
      .insertInto("skus")
      .values({ id: newId(), tenant_id: a.tenantId, product_id: productId, sku_code: "BAG-LTD", title: "限量版帆布包", price: 15900 })
      .execute();
    price.set("BAG-LTD", 15900);
    const now = deps.clock.now().getTime();
    let n = 0;
    const order = async (codes: string[], paid = true) => {
      n++;
      const lines = codes.map((skuCode) => ({
        skuCode,
        quantity: 1,
        unitPrice: price.get(skuCode) ?? 0,
        discount: 0,
        isGift: false,
        giftPrice: 0,
        noReasonReturnWaived: false,
      }));
      const amount = lines.reduce((s, l) => s + l.unitPrice, 0);
      const input: OrderInput = {
        shopId: shop.id,
        platformOrderNo: `TB${20261190000 + n}`,
        customer: { name: "赵六", phone: `1370000${String(1000 + n)}` },
        address: {
          name: "赵六",
          phone: `1370000${String(1000 + n)}`,
          province: "江苏",
          city: "南京",
          district: "鼓楼",
          line1: `中山路 ${n} 号`,
        },
        lines,
        discounts: [],
        shippingFee: 0,
        ...(paid && { paid: { amount, method: "alipay", reference: `PAYF${n}`, paidAt: new Date(now - 2 * DAY).toISOString() } }),
      };
      return (await createOrder(deps, a, input)).order;
    };
    const forward = async (id: string) => (await runOrderAction(deps, a, id, "forward", {})).supplierOrders as { id: string }[];
    const so = (id: string, action: string, input: Record<string, unknown> = {}) => runSupplierOrderAction(deps, a, id, action, input);

    await order(["MUG-WHITE"], false); // pending_payment
    const partial = await order(["MUG-WHITE", "TEE-M"]);
    const [p1] = await forward(partial.id);
    await so(p1.id, "ship", { carrier: "顺丰", trackingNo: "SF1490000001" }); // partially_shipped

    const done = await order(["TEE-M"]);
    for (const s of await forward(done.id)) {
      await so(s.id, "ship", { carrier: "中通", trackingNo: "ZT1490000002" });
      await so(s.id, "deliver", { deliveredAt: new Date(now - 20 * DAY).toISOString() });
    }
    await runOrderAction(deps, a, done.id, "complete", {}); // completed

    const cancelled = await order(["MUG-WHITE"]);
    await forward(cancelled.id);
    await runOrderAction(deps, a, cancelled.id, "cancel", { reason: "买家拍错了" }); // cancelled, refund due

    const refused = await order(["TEE-M"]);
    const [r1] = await forward(refused.id);
    await so(r1.id, "request-cancel");
    await so(r1.id, "refuse-cancel", { note: "已打包" }); // forwarded, the supplier keeps it

    const intercepted = await order(["MUG-WHITE"]);
    const [i1] = await forward(intercepted.id);
    await so(i1.id, "ship", { carrier: "圆通", trackingNo: "YT1490000003" });
    await so(i1.id, "request-intercept");
    await so(i1.id, "intercept-result", { outcome: "intercepted" }); // parcel coming back

    const late = await order(["TEE-M"]);
    const [l1] = await forward(late.id);
    await deps.db
      .updateTable("supplier_orders")
      .set({ ship_by: new Date(now - DAY) })
      .where("id", "=", l1.id)
      .execute(); // past its lead time without shipping

    const sourcing = await order(["BAG-LTD"]);
    await runOrderAction(deps, a, sourcing.id, "forward", {}); // needs_sourcing
  },
};
