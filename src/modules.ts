// Every capability's routes and demo data, in one list, so that the server, the CLI and the tests
// assemble the same application. Add a capability here when it lands.

import { blocklistRoutes } from "./after-sales/blocklist.routes.js";
import { setupCaseEvents } from "./after-sales/case.events.js";
import { caseRoutes } from "./after-sales/case.routes.js";
import { caseQueueRoutes } from "./after-sales/case-queue.js";
import { complaintRoutes } from "./after-sales/complaint.routes.js";
import { setupParcelReturns } from "./after-sales/parcel-returns.js";
import { analyticsRoutes, setupAnalytics } from "./analytics/analytics.routes.js";
import { automationRoutes, setupAutomation } from "./automation/automation.routes.js";
import { setupCarrierJobs } from "./carriers/jobs.js";
import { carrierRoutes } from "./carriers/routes.js";
import { catalogRoutes } from "./catalog/catalog.routes.js";
import { connectorRoutes } from "./connectors/connector.routes.js";
import { setupConnectors } from "./connectors/connector.service.js";
import { connectorKindRoutes } from "./connectors/kinds.routes.js";
import { messageRoutes } from "./conversations/messages.routes.js";
import { quickReplyRoutes } from "./conversations/quick-replies.routes.js";
import { demoSeeder } from "./demo/demo.js";
import type { DemoSeeder } from "./demo/seed.js";
import { fulfilmentDemoSeeder } from "./fulfilment/demo.js";
import { identityRoutes } from "./identity/identity.routes.js";
import { importRoutes } from "./imports/import.routes.js";
import { failInterruptedImports } from "./imports/import.service.js";
import { claimRoutes } from "./money/claims.routes.js";
import { moneyDemoSeeder } from "./money/demo.js";
import { moneyRoutes } from "./money/money.routes.js";
import { setupMoney } from "./money/money.setup.js";
import { orderRoutes } from "./orders/order.routes.js";
import type { Deps } from "./platform/context.js";
import type { RouteModule } from "./platform/http.js";
import { policyRoutes } from "./policies/policy.routes.js";
import { portalRoutes } from "./portal/portal.routes.js";
import { portalRefundRoutes } from "./portal/portal-refund.js";
import { shopRoutes } from "./shops/shop.routes.js";
import { checkStateMachines } from "./state-machines.js";
import { setupSupplierChannels } from "./suppliers-platforms/channel.jobs.js";
import { supplierChannelRoutes } from "./suppliers-platforms/routes.js";
import { webRoutes } from "./web/web.routes.js";

export const routeModules: RouteModule[] = [
  identityRoutes,
  shopRoutes,
  catalogRoutes,
  orderRoutes,
  importRoutes,
  policyRoutes,
  caseRoutes,
  complaintRoutes,
  blocklistRoutes,
  caseQueueRoutes,
  moneyRoutes,
  claimRoutes,
  portalRoutes,
  portalRefundRoutes,
  automationRoutes,
  connectorRoutes,
  connectorKindRoutes,
  carrierRoutes,
  messageRoutes,
  quickReplyRoutes,
  supplierChannelRoutes,
  // Last: the web app's pages.
  webRoutes,
  analyticsRoutes,
];

/** Seeders run in order on an empty tenant; each later one may use what the earlier ones made. */
export const demoSeeders: DemoSeeder[] = [demoSeeder, fulfilmentDemoSeeder, moneyDemoSeeder];

/** Start-up hooks of capabilities (event sinks, payment gateways, workers); run before routes. */
export const setupHooks: ((deps: Deps) => void | Promise<void>)[] = [
  checkStateMachines,
  setupMoney,
  // After money: the case follows its refund's events.
  setupCaseEvents,
  setupParcelReturns,
  setupAutomation,
  // After automation: the rollup job uses its queue.
  setupAnalytics,
  // After automation: connector jobs run on its queue.
  setupConnectors,
  // After automation: subscriptions and interceptions run on its queue.
  setupCarrierJobs,
  // After automation and connectors: forwarding to supplier platforms runs on its own queue.
  setupSupplierChannels,
  failInterruptedImports,
];
