import { z } from "zod";
import { pageQuery } from "../platform/list.js";

export const ConnectorBody = z.strictObject({
  kind: z.string().min(1).max(40),
  shopId: z.string().uuid().nullish(),
  name: z.string().min(1).max(100).optional(),
  config: z.record(z.string(), z.unknown()),
});

export const ConnectorPatch = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  shopId: z.string().uuid().nullish(),
  config: z.record(z.string(), z.unknown()).optional(),
});

export const ConnectorListQuery = z.strictObject({
  ...pageQuery,
  kind: z.string().max(40).optional(),
  shopId: z.string().uuid().optional(),
});
