import { describe, expect, it } from "vitest";
import { fromMinorUnits, toMinorUnits } from "./money.js";
import { fromRest, toExternalOrder } from "./shopify/map.js";

describe("decimal strings to minor units", () => {
  it("reads each currency by its exponent, digit by digit", () => {
    expect(toMinorUnits("0.29", "CNY")).toBe(29);
    expect(toMinorUnits("12.3", "USD")).toBe(1230);
    expect(toMinorUnits("1500", "JPY")).toBe(1500);
    expect(toMinorUnits("1500.00", "JPY")).toBe(1500);
    expect(toMinorUnits("1.234", "KWD")).toBe(1234);
    expect(() => toMinorUnits("1500.50", "JPY")).toThrow(/more decimals/);
    expect(() => toMinorUnits("1e3", "CNY")).toThrow(/not an amount/);
    expect(fromMinorUnits(1230, "CNY")).toBe("12.30");
    expect(fromMinorUnits(5, "USD")).toBe("0.05");
    expect(fromMinorUnits(1500, "JPY")).toBe("1500");
  });
});

describe("Shopify order mapping", () => {
  const rest = {
    id: 4_000_001,
    name: "#1001",
    currency: "JPY",
    created_at: "2026-03-01T12:00:00+09:00",
    processed_at: "2026-03-01T12:00:00+09:00",
    updated_at: "2026-03-01T12:05:00+09:00",
    financial_status: "paid",
    total_price: "3300",
    payment_gateway_names: ["shopify_payments", "gift_card"],
    line_items: [{ sku: "MUG", title: "Mug", price: "1500", quantity: 2, discount_allocations: [{ amount: "200" }] }],
    shipping_lines: [{ price: "500", discount_allocations: [] }],
    shipping_address: {
      name: "Sato Ken",
      address1: "1-1 Chiyoda",
      address2: "",
      zip: "100-0001",
      country_code: "JP",
      province_code: "JP-13",
      city: "Tokyo",
    },
    customer: { first_name: "Ken", last_name: "Sato", email: "ken@example.test" },
  };

  it("maps a JPY order with no minor unit, its discounts, shipping and payment", () => {
    const o = toExternalOrder(fromRest(rest), { shopCurrency: "JPY" });
    expect(o.refusal).toBeUndefined();
    expect(o.order).toMatchObject({
      platformOrderNo: "#1001",
      lines: [{ skuCode: "MUG", unitPrice: 1500, quantity: 2, discount: 200 }],
      shippingFee: 500,
      paid: { amount: 3300, method: "shopify_payments+gift_card", paidAt: "2026-03-01T03:00:00.000Z" },
      address: { line1: "1-1 Chiyoda", postalCode: "100-0001", country: "JP", province: "JP-13" },
    });
    expect(o.externalId).toBe("4000001");
  });

  it("refuses an order whose money does not add up, or in another currency, saying why", () => {
    expect(toExternalOrder(fromRest({ ...rest, total_price: "3400" }), { shopCurrency: "JPY" }).refusal).toMatch(
      /does not add up.*3300 JPY.*3400 JPY/,
    );
    expect(toExternalOrder(fromRest(rest), { shopCurrency: "CNY" }).refusal).toBe("the order is in JPY but the shop keeps CNY");
  });

  it("leaves an unpaid order without a payment", () => {
    expect(toExternalOrder(fromRest({ ...rest, financial_status: "pending" }), { shopCurrency: "JPY" }).order?.paid).toBeUndefined();
  });
});
