import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Catalog } from "../helpers/fixtures.js";
import type { TestApp } from "../helpers/harness.js";

/** A local HTTP server for a platform emulator, on a free port of 127.0.0.1. */
export async function listenLocal(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const JPEG = Buffer.concat([Buffer.from("ffd8ffe000104a464946000101", "hex"), Buffer.alloc(200, 7)]);

/**
 * What the supplier-platform suites do through the API again and again: call it as a role, sync
 * the platform's connector, read a supplier order's platform link, forward an order to supplier A
 * and run the jobs, put a photo on a case. The suite's app, catalog and connector are read lazily.
 */
export function channelHelpers(s: { t: () => TestApp; cat: () => Catalog; connectorId: () => string }) {
  const runJobs = () => (s.t().deps.services.runChannelJobs as () => Promise<number>)();
  const runConnector = () => (s.t().deps.services.runConnectorJobs as () => Promise<number>)();
  const ok = async (method: string, url: string, body?: unknown, as = "admin") => {
    const r = await s.t().api(method, url, { as, body });
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
    return r.body;
  };
  const sync = async () => {
    await ok("POST", `/api/v1/connectors/${s.connectorId()}/actions/sync`);
    await runConnector();
    return ok("GET", `/api/v1/connectors/${s.connectorId()}`);
  };
  const so = (id: string) => ok("GET", `/api/v1/supplier-orders/${id}/channel`);
  const forwarded = async (order: { id: string }) => {
    const fwd = await ok("POST", `/api/v1/orders/${order.id}/actions/forward`);
    await runJobs();
    return fwd.supplierOrders.find((x: { supplierId: string }) => x.supplierId === s.cat().suppliers.a);
  };
  /** Uploads a small JPEG to the case as staff; answers the upload's status. */
  const photo = async (caseId: string, filename = "crack.jpg") => {
    const boundary = "----dropdesk-platform-test";
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      JPEG,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await s.t().app.inject({
      method: "POST",
      url: `/api/v1/cases/${caseId}/evidence`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${s.t().t.tokens.cs}` },
      payload,
    });
    return up.statusCode;
  };
  return { runJobs, runConnector, ok, sync, so, forwarded, photo, JPEG };
}
