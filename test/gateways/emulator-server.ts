import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A request as an emulator sees it: the raw body, so that signatures are checked over the bytes sent. */
export interface EmuRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}
export interface EmuAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** Do the work, then drop the connection without answering (a crash or a lost answer on the way back). */
  drop?: boolean;
}

/** An HTTP server on a loopback port running one emulator's handler. */
export async function serve(handler: (req: EmuRequest) => Promise<EmuAnswer> | EmuAnswer) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const a = await handler({
          method: req.method ?? "GET",
          url: new URL(req.url ?? "/", "http://127.0.0.1"),
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        if (a.drop) {
          req.socket.destroy();
          return;
        }
        res.writeHead(a.status, { "content-type": "application/json; charset=utf-8", ...a.headers }).end(a.body);
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A fresh RSA-2048 key pair as PEM (PKCS#8 private, SPKI public). */
export function rsaPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKey, publicKey };
}

/** Faults an emulator applies to its next requests, in order. */
export type Fault = "outage" | "busy" | "drop" | "forge";
