import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelsFromEnv } from "../../src/automation/delivery.js";
import {
  checkOutbound,
  internalReason,
  OutboundRefused,
  outboundRequest,
  parseOutboundAllow,
  UNREACHABLE,
} from "../../src/platform/outbound.js";
import { closedLoopbackPort, loopbackReceiver } from "../helpers/receiver.js";

const none = parseOutboundAllow(undefined);

describe("outbound URL guard", () => {
  it("knows loopback, private, CGNAT, link-local, unspecified, unique-local, mapped, multicast and broadcast addresses", () => {
    const internal = [
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "0.0.0.0",
      "::",
      "10.0.0.1",
      "172.16.0.1",
      "172.31.255.254",
      "192.168.1.1",
      "100.64.0.1",
      "100.127.255.254",
      "169.254.169.254",
      "fe80::1",
      "febf::1",
      "fc00::1",
      "fdff::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "::ffff:10.0.0.1",
      "64:ff9b::a9fe:a9fe",
      "224.0.0.1",
      "239.255.255.250",
      "ff02::1",
      "255.255.255.255",
    ];
    for (const a of internal) expect(internalReason(a), a).not.toBeNull();
    // Documentation addresses stand in for public ones here; nothing connects to them.
    for (const a of ["203.0.113.7", "198.51.100.20", "172.32.0.1", "100.128.0.1", "2001:db8::7", "::ffff:203.0.113.7"])
      expect(internalReason(a), a).toBeNull();
  });

  it("refuses internal URLs however the address is written, and anything but http(s)", async () => {
    for (const url of [
      "http://127.0.0.1:5432/",
      "http://[::1]/",
      "http://0.0.0.0/",
      "http://169.254.169.254/latest/meta-data/",
      "http://localhost:22/",
      "http://LOCALHOST./",
      "http://2130706433/",
      "http://0x7f.1/",
      "http://017700000001/",
      "http://[::ffff:127.0.0.1]/",
      "https://[fe80::1]/",
      "ftp://203.0.113.7/",
      "file:///etc/passwd",
    ]) {
      await expect(checkOutbound(url, none), url).rejects.toBeInstanceOf(OutboundRefused);
    }
    const ok = await checkOutbound("https://203.0.113.7/hook?x=1", none);
    expect(ok.addresses).toEqual([{ address: "203.0.113.7", family: 4 }]);
  });

  it("refuses a host name when any of its addresses is internal", async () => {
    const resolve = async () => [
      { address: "203.0.113.7", family: 4 as const },
      { address: "10.1.2.3", family: 4 as const },
    ];
    await expect(checkOutbound("http://mixed.test/", none, { resolve })).rejects.toBeInstanceOf(OutboundRefused);
    await expect(
      checkOutbound("http://nowhere.test/", none, {
        resolve: async () => {
          throw new Error("ENOTFOUND");
        },
      }),
    ).rejects.toThrow("does not resolve");
  });

  it("allows what the installation lists: hosts, host:port, addresses and CIDRs, and nothing more", async () => {
    const p = parseOutboundAllow(" localhost:8080 , 10.0.0.0/8, [::1]:9000, 192.168.5.5, hooks.internal.test ");
    await expect(checkOutbound("http://localhost:8080/", p)).resolves.toBeTruthy();
    await expect(checkOutbound("http://localhost:8081/", p)).rejects.toBeInstanceOf(OutboundRefused);
    await expect(checkOutbound("http://10.20.30.40:1234/", p)).resolves.toBeTruthy();
    await expect(checkOutbound("http://[::1]:9000/", p)).resolves.toBeTruthy();
    await expect(checkOutbound("http://[::1]:9001/", p)).rejects.toBeInstanceOf(OutboundRefused);
    await expect(checkOutbound("http://192.168.5.5:1/", p)).resolves.toBeTruthy();
    await expect(checkOutbound("http://192.168.5.6/", p)).rejects.toBeInstanceOf(OutboundRefused);
    await expect(checkOutbound("http://127.0.0.1:8080/", p)).rejects.toBeInstanceOf(OutboundRefused);
    const resolve = async () => [{ address: "172.20.0.9", family: 4 as const }];
    await expect(checkOutbound("http://hooks.internal.test/", p, { resolve })).resolves.toBeTruthy();
    await expect(checkOutbound("http://other.internal.test/", p, { resolve })).rejects.toBeInstanceOf(OutboundRefused);
    expect(() => parseOutboundAllow("10.0.0.0/99")).toThrow("CIDR");
    expect(() => parseOutboundAllow("localhost:0")).toThrow("port");
  });
});

describe("outbound requests", () => {
  let rx: Awaited<ReturnType<typeof loopbackReceiver>>;
  let target: Awaited<ReturnType<typeof loopbackReceiver>>;
  let redirector: Awaited<ReturnType<typeof loopbackReceiver>>;
  beforeAll(async () => {
    rx = await loopbackReceiver();
    target = await loopbackReceiver();
    redirector = await loopbackReceiver((res) => void res.writeHead(302, { location: `http://127.0.0.1:${target.port}/inside` }).end());
  });
  afterAll(async () => {
    await Promise.all([rx?.close(), target?.close(), redirector?.close()]);
  });

  it("never connects to a refused address", async () => {
    const before = rx.connections();
    await expect(outboundRequest(rx.url, { policy: none, body: "{}" })).rejects.toBeInstanceOf(OutboundRefused);
    await expect(outboundRequest(`http://localhost:${rx.port}/hook`, { policy: none, body: "{}" })).rejects.toBeInstanceOf(OutboundRefused);
    expect(rx.connections()).toBe(before);
  });

  it("connects to the address it checked, never to a second DNS answer", async () => {
    let asked = 0;
    // The first answer is the allowed receiver; any later one would point elsewhere.
    const resolve = async () => {
      asked += 1;
      return [{ address: asked === 1 ? "127.0.0.1" : "10.9.9.9", family: 4 as const }];
    };
    const policy = parseOutboundAllow(`127.0.0.1:${rx.port}`);
    const r = await outboundRequest(`http://rebind.test:${rx.port}/pinned`, { policy, body: "{}", resolve });
    expect(r.status).toBe(200);
    expect(asked).toBe(1);
    expect(rx.hits.at(-1)).toMatchObject({ url: "/pinned", headers: { host: `rebind.test:${rx.port}` } });
  });

  it("returns a redirect as its status and does not follow it, even to an allowed address", async () => {
    const policy = parseOutboundAllow("127.0.0.1");
    const r = await outboundRequest(redirector.url, { policy, body: "{}" });
    expect(r.status).toBe(302);
    expect(target.connections()).toBe(0);
  });

  it("reports a closed port and a silent receiver with the same message", async () => {
    const policy = parseOutboundAllow("127.0.0.1");
    const closed = await closedLoopbackPort();
    const silent = await loopbackReceiver(() => {});
    try {
      const a = await outboundRequest(`http://127.0.0.1:${closed}/`, { policy, body: "{}" }).catch((e: Error) => e.message);
      const b = await outboundRequest(silent.url, { policy, body: "{}", timeoutMs: 300 }).catch((e: Error) => e.message);
      expect(a).toBe(UNREACHABLE);
      expect(b).toBe(UNREACHABLE);
    } finally {
      await silent.close();
    }
  });

  it("calls the SMS provider only when its address is public or allowed, and not through a redirect", async () => {
    const blocked = channelsFromEnv({ SMS_WEBHOOK_URL: rx.url }, undefined);
    const before = rx.connections();
    await expect(blocked.sms?.("13800000000", "hi")).rejects.toBeInstanceOf(OutboundRefused);
    expect(rx.connections()).toBe(before);
    const allowed = channelsFromEnv({ SMS_WEBHOOK_URL: rx.url }, "127.0.0.1");
    await allowed.sms?.("13800000000", "hi");
    expect(JSON.parse(rx.hits.at(-1)?.body ?? "{}")).toEqual({ to: "13800000000", text: "hi" });
    const redirected = channelsFromEnv({ SMS_WEBHOOK_URL: redirector.url }, "127.0.0.1");
    await expect(redirected.sms?.("13800000000", "hi")).rejects.toThrow("SMS provider answered 302");
    expect(target.connections()).toBe(0);
  });
});
