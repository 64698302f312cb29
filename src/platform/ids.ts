import { createHash, randomBytes } from "node:crypto";
import { uuidv7 } from "uuidv7";

export const newId = (): string => uuidv7();
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
