import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Connector secrets at rest: one AES-256-GCM envelope per connector, `v1.<iv>.<tag>.<ciphertext>`
 * (base64url), with the connector's id as additional data, so that an envelope copied onto another
 * row does not open. The key is `DROPDESK_SECRET_KEY` (32 bytes as 64 hex digits or base64); the
 * embedded start makes one into `<data dir>/secret.key` (mode 0600) the first time. The key is
 * never stored in the database: a copy of the database alone does not reveal the secrets.
 */
export class SecretKeyMissing extends Error {
  constructor() {
    super("connector secrets need DROPDESK_SECRET_KEY (32 bytes as 64 hex digits or base64) on this installation");
    this.name = "SecretKeyMissing";
  }
}

export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new Error("DROPDESK_SECRET_KEY must be 32 bytes: 64 hex digits or 44 base64 characters");
  return key;
}

/** The key from the setting, else (embedded database with a data directory) the generated file. */
export async function loadSecretKey(opts: { setting?: string; keyFile?: string }): Promise<Buffer | undefined> {
  if (opts.setting) return parseSecretKey(opts.setting);
  if (!opts.keyFile) return undefined;
  try {
    return parseSecretKey(await readFile(opts.keyFile, "utf8"));
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
  }
  await mkdir(dirname(opts.keyFile), { recursive: true });
  // `wx`: two processes starting at once do not overwrite each other's key; the loser reads it.
  await writeFile(opts.keyFile, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 }).catch((e) => {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  });
  await chmod(opts.keyFile, 0o600).catch(() => {});
  return parseSecretKey(await readFile(opts.keyFile, "utf8"));
}

export function sealSecrets(key: Buffer, connectorId: string, secrets: Record<string, string>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(connectorId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

export function openSecrets(key: Buffer, connectorId: string, envelope: string): Record<string, string> {
  const [version, iv, tag, ct] = envelope.split(".");
  if (version !== "v1" || !iv || !tag || ct === undefined) throw new Error("unknown secret envelope");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(connectorId));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  const plain = Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as Record<string, string>;
}

/** How a secret is shown: never the value, only that one is set and its last two characters. */
export const maskSecret = (value: string | undefined): string | null => (value ? `••••${value.length > 8 ? value.slice(-2) : ""}` : null);
