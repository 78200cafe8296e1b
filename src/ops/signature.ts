import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Webhook signing. Each POST carries:
 *   X-Tfs-Rollout-Timestamp: <unix seconds when the attempt was sent>
 *   X-Tfs-Rollout-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "<timestamp>." + body bytes)>
 * The timestamp is inside the MAC, so a receiver that rejects timestamps older than a few minutes cannot be fed
 * a replayed request; the body is signed byte for byte as sent (verify before parsing the JSON).
 */
export const SIGNATURE_HEADER = "x-tfs-rollout-signature";
export const TIMESTAMP_HEADER = "x-tfs-rollout-timestamp";
export const EVENT_HEADER = "x-tfs-rollout-event";
export const DELIVERY_HEADER = "x-tfs-rollout-delivery";

/** Default receiver tolerance for the timestamp (either direction), seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signBody(secret: string, timestampSeconds: number, body: Uint8Array): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(body);
  return `sha256=${mac.digest("hex")}`;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Receiver side (and tests): checks the signature and that the timestamp is within toleranceSeconds of now. */
export function verifySignature(options: {
  secret: string;
  body: Uint8Array;
  signature: string | undefined;
  timestamp: string | undefined;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): VerifyResult {
  const { secret, body, signature, timestamp } = options;
  if (signature === undefined) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  if (timestamp === undefined || !/^\d+$/.test(timestamp))
    return { ok: false, reason: `missing or non-numeric ${TIMESTAMP_HEADER} header` };
  const sentAt = Number(timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - sentAt) > tolerance)
    return { ok: false, reason: `timestamp ${timestamp} is more than ${tolerance}s away from now (${now})` };
  const expected = Buffer.from(signBody(secret, sentAt, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "signature does not match the body" };
  return { ok: true };
}
