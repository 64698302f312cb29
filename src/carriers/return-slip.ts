// The return slip (退货单) a customer puts in the box, as a PDF.
import { caseView } from "../after-sales/case.view.js";
import type { Actor, Deps } from "../platform/context.js";
import { slipPdf } from "./pdf.js";

type Address = { name?: string; phone?: string; province?: string; city?: string; district?: string; line1?: string; line2?: string };

/** The return slip (退货单) to put in the box: case number (also as a Code 128 barcode), order, items, where it goes. */
export async function returnSlip(deps: Deps, actor: Actor, caseId: string) {
  const view = (await caseView(deps.db, actor, caseId)) as { caseNo: string; lines: { title: string; quantity: number }[] };
  const c = await deps.db
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .select(["c.case_no", "c.return_address", "o.platform_order_no"])
    .where("c.id", "=", caseId)
    .where("c.tenant_id", "=", actor.tenantId)
    .executeTakeFirstOrThrow();
  const to = (c.return_address ?? {}) as Address;
  const lines: { text: string; size?: number; gap?: number }[] = [
    { text: `售后单号 Case: ${c.case_no}` },
    { text: `订单号 Order: ${c.platform_order_no}`, gap: 26 },
    { text: "退回商品 Items returned:" },
    ...view.lines.map((l) => ({ text: `  · ${l.title} × ${l.quantity}` })),
    { text: "", gap: 8 },
    { text: "寄回地址 Return to:" },
    { text: `  ${[to.name, to.phone].filter(Boolean).join("  ")}` },
    { text: `  ${[to.province, to.city, to.district].filter(Boolean).join(" ")}` },
    { text: `  ${[to.line1, to.line2].filter(Boolean).join(" ")}`, gap: 30 },
    { text: "请将本单放入包裹内，并在面单备注售后单号。", size: 10 },
    { text: "Put this slip in the parcel and write the case number on the label.", size: 10 },
  ];
  return { filename: `return-slip-${c.case_no}.pdf`, pdf: slipPdf({ title: "退货单 Return slip", lines, barcode: c.case_no }) };
}
