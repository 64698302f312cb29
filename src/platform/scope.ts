import type { Actor } from "./context.js";

/** Supplier users only ever see their own supplier: the supplier a list is narrowed to. */
export const scopeSupplier = (a: Actor, supplierId?: string): string | undefined => (a.role === "supplier" ? a.supplierId : supplierId);
