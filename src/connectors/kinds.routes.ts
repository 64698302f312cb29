import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { ROLES, type ZApp } from "../platform/http.js";
import { CONNECTOR_KINDS } from "./context.js";

// What the console's connector form asks for each kind: its settings, which are secret (shown
// masked, written only), which are required, and the choices of the ones that are a choice.

export interface KindField {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "enum";
  required: boolean;
  secret: boolean;
  options?: string[];
}

type JsonProp = { type?: string; enum?: unknown[]; anyOf?: JsonProp[] };

function fieldOf(name: string, p: JsonProp, required: boolean, secret: boolean): KindField {
  const inner = p.anyOf?.find((x) => x.type !== "null") ?? p;
  if (inner.enum) return { name, type: "enum", required, secret, options: inner.enum.map(String) };
  const type = inner.type === "integer" || inner.type === "number" || inner.type === "boolean" ? inner.type : "string";
  return { name, type, required, secret };
}

export function connectorKinds() {
  return Object.values(CONNECTOR_KINDS).map((k) => {
    const js = z.toJSONSchema(k.configSchema, { unrepresentable: "any" }) as { properties?: Record<string, JsonProp>; required?: string[] };
    const required = new Set(js.required ?? []);
    return {
      kind: k.kind,
      needsShop: k.needsShop,
      fields: Object.entries(js.properties ?? {}).map(([name, p]) => fieldOf(name, p, required.has(name), k.secretFields.includes(name))),
    };
  });
}

export function connectorKindRoutes(app: ZApp, _deps: Deps) {
  app.get("/api/v1/connector-kinds", { config: { roles: ROLES.admin }, schema: { tags: ["connectors"] } }, async () => ({
    items: connectorKinds(),
    nextCursor: null,
  }));
}
