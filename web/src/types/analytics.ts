// The analytics reports as the API answers them (src/analytics/analytics.routes.ts): the rows are
// the server's own interfaces; the envelopes add the range they cover.
import type { Overview, ParetoRow, ReturnsRow, SupplierCard, TimingsRow } from "../../../src/analytics/analytics";
import type { rollupStates } from "../../../src/analytics/rollup";
import type { Json } from "./views";

export type { Overview, ParetoRow, ReturnsRow, SupplierCard, TimingsRow };

/** The days and time zone a report covers. */
export interface ReportRange {
  from: string;
  to: string;
  timeZone: string;
}

/** GET /analytics/returns */
export interface ReturnsReport {
  range: ReportRange;
  groupBy: string;
  items: ReturnsRow[];
}

/** GET /analytics/reasons */
export interface ReasonsReport {
  range: ReportRange;
  groupBy: string;
  total: number;
  items: ParetoRow[];
}

/** GET /analytics/timings */
export interface TimingsReport {
  range: ReportRange;
  groupBy: string | null;
  items: TimingsRow[];
}

/** GET /analytics/suppliers */
export interface SuppliersReport {
  range: ReportRange;
  items: SupplierCard[];
}

/** GET /analytics/rollups: how far each time zone's daily rollup reaches. */
export type Rollups = Json<Awaited<ReturnType<typeof rollupStates>>>;
