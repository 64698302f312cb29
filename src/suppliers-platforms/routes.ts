import { sql } from "kysely";
import { z } from "zod";
import { contextFor, loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { runSupplierOrderAction } from "../fulfilment/supplier-order.service.js";
import { CLAIM_MACHINE } from "../money/claim.states.js";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { disputeOut, openDisputeForClaim, pullDispute } from "./channel.disputes.js";
import { forwardSupplierOrder, queueForward } from "./channel.forward.js";
import { runPendingChannelJobs } from "./channel.jobs.js";
import { syncOffer } from "./channel.offers.js";
import { channelOf, linkOf, platformFor } from "./channel.repo.js";
import { cancelOnPlatform, pullSupplierOrder } from "./channel.status.js";
import { evidenceLinkRoutes } from "./evidence-links.js";
import { CHANNEL_KINDS, cdb } from "./platform.js";
import { recoveryRoutes } from "./recovery.routes.js";
import { platformTermsOf } from "./terms.js";

/** A claim is outstanding until its machine's final statuses. */
const OPEN_CLAIM_STATUSES = CLAIM_MACHINE.statuses.filter((st) => !CLAIM_MACHINE.final.includes(st));

/** The platform disputes of some claims, oldest first. */
const disputesOf = (deps: Deps, claimIds: string[]) =>
  claimIds.length
    ? cdb(deps.db).selectFrom("claim_disputes").selectAll().where("claim_id", "in", claimIds).orderBy("opened_at").execute()
    : Promise.resolve([]);

const idParam = z.object({ id: z.string().uuid() });
const DAY = 86_400_000;

/** The recovery of one case's claim: refunded to the customer, claimed, recovered, written off, outstanding and for how long. */
async function recoveryOf(deps: Deps, tenantId: string, caseId: string) {
  const c = await deps.db
    .selectFrom("cases")
    .select(["id", "case_no", "refunded_total", "supplier_id"])
    .where("tenant_id", "=", tenantId)
    .where("id", "=", caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  const claims = await deps.db.selectFrom("supplier_claims").selectAll().where("case_id", "=", caseId).orderBy("created_at").execute();
  const rows = claims.length
    ? await sql<{
        claim_id: string;
        code: string;
        account: string;
        amount: string;
      }>`SELECT p.claim_id, p.code, e.account, sum(e.amount)::text AS amount
        FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
        WHERE p.tenant_id = ${tenantId} AND p.claim_id = ANY(${claims.map((x) => x.id)}::uuid[]) GROUP BY p.claim_id, p.code, e.account`.execute(
        deps.db,
      )
    : { rows: [] };
  const disputes = await disputesOf(
    deps,
    claims.map((x) => x.id),
  );
  const now = deps.clock.now().getTime();
  const of = (claimId: string, code: string, account: string) =>
    rows.rows.filter((r) => r.claim_id === claimId && r.code === code && r.account === account).reduce((s, r) => s + Number(r.amount), 0);
  const items = claims.map((cl) => {
    // Cash the platform refunded, and deductions on a closed statement, are both recoveries.
    const recovered = of(cl.id, "claim_recovered", "cash") + of(cl.id, "claim_settled", "supplier_payables");
    const writtenOff = of(cl.id, "claim_written_off", "cost_of_goods") + of(cl.id, "claim_cancelled", "cost_of_goods");
    const open = !CLAIM_MACHINE.final.includes(cl.status);
    const outstanding = open ? Math.max(0, Number(cl.amount) - recovered) : 0;
    const end = open ? now : new Date(cl.settled_at ?? cl.updated_at).getTime();
    return {
      claimId: cl.id,
      status: cl.status,
      claimed: Number(cl.amount),
      recovered,
      writtenOff,
      outstanding,
      openedAt: cl.created_at,
      daysOutstanding: open ? Math.floor((now - new Date(cl.created_at).getTime()) / DAY) : 0,
      daysToRecover: open ? null : Math.floor((end - new Date(cl.created_at).getTime()) / DAY),
      disputes: disputes.filter((d) => d.claim_id === cl.id).map(disputeOut),
    };
  });
  const sum = (k: "claimed" | "recovered" | "writtenOff" | "outstanding") =>
    items.filter((i) => i.status !== "cancelled" || k === "writtenOff").reduce((s, i) => s + i[k], 0);
  const refunded = Number(c.refunded_total);
  const recovered = sum("recovered");
  return {
    caseId: c.id,
    caseNo: c.case_no,
    refundedToCustomer: refunded,
    claimed: sum("claimed"),
    recovered,
    writtenOff: sum("writtenOff"),
    outstanding: sum("outstanding"),
    net: refunded - recovered,
    claims: items,
    platformTerms: await platformTermsOf(deps.db, tenantId, caseId),
  };
}

export function supplierChannelRoutes(app: ZApp, deps: Deps) {
  evidenceLinkRoutes(app, deps);
  recoveryRoutes(app, deps);
  const ChannelBody = z.strictObject({
    kind: z.enum(CHANNEL_KINDS as [string, ...string[]]),
    connectorId: z.string().uuid().nullish(),
    autoForward: z.boolean().default(true),
  });
  app.put(
    "/api/v1/suppliers/:id/channel",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], params: idParam, body: ChannelBody } },
    async (req) => {
      const a = actorOf(req);
      const s = await deps.db
        .selectFrom("suppliers")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!s) throw notFound("supplier");
      const b = req.body;
      if (platformFor(b.kind)) {
        const row = b.connectorId ? await loadConnector(deps.db, b.connectorId, a.tenantId) : undefined;
        if (!row || row.kind !== b.kind) throw validation("connectorId", `a ${b.kind} connector of this tenant is needed`);
      }
      const values = {
        kind: b.kind as "portal",
        connector_id: platformFor(b.kind) ? (b.connectorId ?? null) : null,
        auto_forward: b.autoForward,
        updated_at: deps.clock.now(),
      };
      await cdb(deps.db)
        .insertInto("supplier_channels")
        .values({ tenant_id: a.tenantId, supplier_id: s.id, ...values })
        .onConflict((oc) => oc.columns(["tenant_id", "supplier_id"]).doUpdateSet(values))
        .execute();
      await audit(deps.db, a, "supplier.channel", "supplier", s.id, undefined, { kind: b.kind, connectorId: values.connector_id });
      return { supplierId: s.id, kind: b.kind, connectorId: values.connector_id, autoForward: b.autoForward };
    },
  );
  app.get(
    "/api/v1/suppliers/:id/channel",
    { config: { roles: ROLES.staff }, schema: { tags: ["suppliers"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const ch = await channelOf(deps.db, a.tenantId, req.params.id);
      return ch
        ? { supplierId: ch.supplier_id, kind: ch.kind, connectorId: ch.connector_id, autoForward: ch.auto_forward }
        : { supplierId: req.params.id, kind: "portal", connectorId: null, autoForward: false };
    },
  );

  // Offers bound to the platform's offer and spec -------------------------------------------------
  const offerOf = async (tenantId: string, id: string) => {
    const o = await deps.db.selectFrom("offers").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    if (!o) throw notFound("offer");
    return o;
  };
  const linkOut = (l: {
    offer_id: string;
    external_offer_id: string;
    external_spec_id: string | null;
    last_price: number | null;
    last_stock: number | null;
    synced_at: Date | null;
    price_warning: unknown;
    last_error: string | null;
  }) => ({
    offerId: l.offer_id,
    externalOfferId: l.external_offer_id,
    externalSpecId: l.external_spec_id,
    lastPrice: l.last_price,
    lastStock: l.last_stock,
    syncedAt: l.synced_at,
    priceWarning: l.price_warning ?? null,
    lastError: l.last_error,
  });
  const getLink = async (offerId: string) => {
    const l = await cdb(deps.db).selectFrom("offer_channel_links").selectAll().where("offer_id", "=", offerId).executeTakeFirst();
    if (!l) throw notFound("offer link");
    return l;
  };
  app.put(
    "/api/v1/offers/:id/channel-link",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["catalog"],
        params: idParam,
        body: z.strictObject({ externalOfferId: z.string().min(1).max(64), externalSpecId: z.string().min(1).max(128).nullish() }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const o = await offerOf(a.tenantId, req.params.id);
      const ch = await channelOf(deps.db, a.tenantId, o.supplier_id);
      if (!ch?.connector_id)
        throw new AppError("conflict", "the offer's supplier has no platform channel; set the supplier's channel first");
      const values = {
        connector_id: ch.connector_id,
        external_offer_id: req.body.externalOfferId,
        external_spec_id: req.body.externalSpecId ?? null,
        updated_at: deps.clock.now(),
      };
      await cdb(deps.db)
        .insertInto("offer_channel_links")
        .values({ offer_id: o.id, tenant_id: a.tenantId, ...values })
        .onConflict((oc) => oc.column("offer_id").doUpdateSet(values))
        .execute();
      return linkOut(await getLink(o.id));
    },
  );
  app.get(
    "/api/v1/offers/:id/channel-link",
    { config: { roles: ROLES.staff }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => {
      const o = await offerOf(actorOf(req).tenantId, req.params.id);
      return linkOut(await getLink(o.id));
    },
  );
  app.post(
    "/api/v1/offers/:id/actions/channel-sync",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => {
      const o = await offerOf(actorOf(req).tenantId, req.params.id);
      const l = await getLink(o.id);
      const row = await loadConnector(deps.db, l.connector_id);
      const platform = row && platformFor(row.kind);
      if (!row || !platform) throw new AppError("conflict", "the offer's platform connector is gone");
      try {
        await syncOffer(deps, await contextFor(deps, row), platform, o.id);
      } catch (e) {
        if (e instanceof ServiceError) throw new AppError("conflict", `${platform.kind}: ${e.message}`);
        throw e;
      }
      return {
        ...linkOut(await getLink(o.id)),
        offer: { cost: Number((await offerOf(o.tenant_id, o.id)).cost), stock: (await offerOf(o.tenant_id, o.id)).stock },
      };
    },
  );
  app.post(
    "/api/v1/offers/:id/actions/acknowledge-price",
    { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const o = await offerOf(a.tenantId, req.params.id);
      // An offer with no platform link has no price to acknowledge: refused before anything is written.
      await getLink(o.id);
      await deps.db.transaction().execute(async (tx) => {
        await cdb(tx)
          .updateTable("offer_channel_links")
          .set({ price_warning: null, updated_at: deps.clock.now() })
          .where("offer_id", "=", o.id)
          .execute();
        await audit(tx, a, "offer.price_acknowledged", "offer", o.id, undefined, {});
      });
      return linkOut(await getLink(o.id));
    },
  );

  // Supplier orders on a platform -----------------------------------------------------------------
  const soLinkOut = async (tenantId: string, soId: string) => {
    const l = await linkOf(deps, tenantId, soId);
    const so = await deps.db
      .selectFrom("supplier_orders")
      .select(["status", "carrier", "tracking_no", "cost_total"])
      .where("id", "=", soId)
      .executeTakeFirstOrThrow();
    return {
      supplierOrderId: soId,
      status: so.status,
      carrier: so.carrier,
      trackingNo: so.tracking_no,
      costTotal: Number(so.cost_total),
      state: l.state,
      externalOrderId: l.external_order_id,
      externalStatus: l.external_status,
      charged: l.charged_total === null ? null : { goods: l.charged_goods, shipping: l.charged_shipping, total: l.charged_total },
      cancelRefundId: l.cancel_refund_id,
      attempts: l.attempts,
      lastError: l.last_error,
      placedAt: l.placed_at,
      pulledAt: l.pulled_at,
    };
  };
  app.get(
    "/api/v1/supplier-orders/:id/channel",
    { config: { roles: ROLES.staff }, schema: { tags: ["orders"], params: idParam } },
    async (req) => soLinkOut(actorOf(req).tenantId, req.params.id),
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-forward",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["orders"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const so = await deps.db
        .selectFrom("supplier_orders")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!so) throw notFound("supplier order");
      const queued = await deps.db.transaction().execute(async (tx) => {
        const l = await cdb(tx)
          .selectFrom("supplier_order_channel_links")
          .select("state")
          .where("supplier_order_id", "=", so.id)
          .executeTakeFirst();
        if (l?.state === "failed")
          await cdb(tx)
            .updateTable("supplier_order_channel_links")
            .set({ state: "queued", last_error: null })
            .where("supplier_order_id", "=", so.id)
            .execute();
        return l ? true : queueForward(deps, tx, a.tenantId, so.id, true);
      });
      if (!queued) throw new AppError("conflict", "the supplier order's supplier has no platform channel");
      await forwardSupplierOrder(deps, so.id);
      await runPendingChannelJobs(deps).catch(() => 0);
      return soLinkOut(a.tenantId, so.id);
    },
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-pull",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["orders"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      try {
        await pullSupplierOrder(deps, a.tenantId, req.params.id);
      } catch (e) {
        if (e instanceof ServiceError) throw new AppError("conflict", e.message);
        throw e;
      }
      return soLinkOut(a.tenantId, req.params.id);
    },
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-cancel",
    {
      config: { roles: ROLES.staffWrite },
      schema: { tags: ["orders"], params: idParam, body: z.strictObject({ reason: z.string().max(500).optional() }).nullish() },
    },
    async (req) => {
      const a = actorOf(req);
      await linkOf(deps, a.tenantId, req.params.id);
      const so = await deps.db.selectFrom("supplier_orders").select("status").where("id", "=", req.params.id).executeTakeFirstOrThrow();
      if (so.status === "pending" || so.status === "accepted")
        await runSupplierOrderAction(deps, a, req.params.id, "request-cancel", { reason: req.body?.reason });
      let result: Awaited<ReturnType<typeof cancelOnPlatform>>;
      try {
        result = await cancelOnPlatform(deps, req.params.id);
      } catch (e) {
        if (e instanceof ServiceError) throw new AppError("conflict", `the platform refused the cancellation: ${e.message}`);
        throw e;
      }
      return { ...(await soLinkOut(a.tenantId, req.params.id)), cancellation: result };
    },
  );

  // Claims as platform disputes, and what they recovered ------------------------------------------
  app.post(
    "/api/v1/supplier-claims/:id/actions/open-dispute",
    {
      config: { roles: ROLES.finance },
      schema: {
        tags: ["claims"],
        params: idParam,
        body: z
          .strictObject({ request: z.enum(["refund", "returnRefund"]).optional(), description: z.string().min(2).max(150).optional() })
          .nullish(),
      },
    },
    async (req, reply) => reply.code(201).send(await openDisputeForClaim(deps, actorOf(req), req.params.id, req.body ?? {})),
  );
  app.post(
    "/api/v1/supplier-claims/:id/actions/pull-dispute",
    { config: { roles: ROLES.finance }, schema: { tags: ["claims"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const ds = await cdb(deps.db)
        .selectFrom("claim_disputes")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("claim_id", "=", req.params.id)
        .where("state", "=", "open")
        .execute();
      try {
        for (const d of ds) await pullDispute(deps, d.id);
      } catch (e) {
        if (e instanceof ServiceError) throw new AppError("conflict", e.message);
        throw e;
      }
      const all = await cdb(deps.db)
        .selectFrom("claim_disputes")
        .selectAll()
        .where("tenant_id", "=", a.tenantId)
        .where("claim_id", "=", req.params.id)
        .orderBy("opened_at")
        .execute();
      return { items: all.map(disputeOut) };
    },
  );
  app.get(
    "/api/v1/cases/:id/recovery",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => recoveryOf(deps, actorOf(req).tenantId, req.params.id),
  );
  app.get(
    "/api/v1/recoveries",
    {
      config: { roles: ["admin", "finance", "viewer"] },
      schema: {
        tags: ["money"],
        querystring: z.strictObject({
          supplierId: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      // Outstanding recoveries, oldest first: every claim not yet settled or cancelled.
      let q = deps.db
        .selectFrom("supplier_claims as sc")
        .innerJoin("suppliers as s", "s.id", "sc.supplier_id")
        .leftJoin("cases as c", "c.id", "sc.case_id")
        .select([
          "sc.id",
          "sc.case_id",
          "sc.status",
          "sc.amount",
          "sc.created_at",
          "sc.supplier_id",
          "s.name as supplier_name",
          "c.case_no",
          "c.refunded_total",
        ])
        .where("sc.tenant_id", "=", a.tenantId)
        .where("sc.status", "in", OPEN_CLAIM_STATUSES);
      if (req.query.supplierId) q = q.where("sc.supplier_id", "=", req.query.supplierId);
      const rows = await q.orderBy("sc.created_at").orderBy("sc.id").limit(req.query.limit).execute();
      const disputes = await disputesOf(
        deps,
        rows.map((r) => r.id),
      );
      const now = deps.clock.now().getTime();
      return {
        items: rows.map((r) => {
          const d = disputes.filter((x) => x.claim_id === r.id).at(-1);
          return {
            claimId: r.id,
            caseId: r.case_id,
            caseNo: r.case_no,
            supplierId: r.supplier_id,
            supplierName: r.supplier_name,
            status: r.status,
            refundedToCustomer: Number(r.refunded_total ?? 0),
            claimed: Number(r.amount),
            outstanding: Number(r.amount),
            openedAt: r.created_at,
            daysOutstanding: Math.floor((now - new Date(r.created_at).getTime()) / DAY),
            dispute: d ? { state: d.state, externalStatus: d.external_status, externalRefundId: d.external_refund_id } : null,
          };
        }),
        total: rows.reduce((s, r) => s + Number(r.amount), 0),
      };
    },
  );
}
