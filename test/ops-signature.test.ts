import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { signBody, verifySignature } from "../src/ops/signature.js";

const body = Buffer.from('{"type":"promoted","version":"7"}');

test("the signature is sha256=HMAC-SHA256(secret, '<timestamp>.' + body) in hex", () => {
  const expected = createHmac("sha256", "key").update(`1700000000.${body.toString()}`).digest("hex");
  assert.equal(signBody("key", 1700000000, body), `sha256=${expected}`);
});

test("verification accepts the signed body and rejects tampering, replay and missing headers", () => {
  const signature = signBody("key", 1000, body);
  const base = { secret: "key", body, signature, timestamp: "1000", nowSeconds: 1100 };
  assert.deepEqual(verifySignature(base), { ok: true });

  const tampered = verifySignature({ ...base, body: Buffer.from(body.toString().replace("7", "8")) });
  assert.deepEqual(tampered, { ok: false, reason: "signature does not match the body" });
  // Moving the timestamp forward to dodge the replay window breaks the MAC.
  assert.equal(verifySignature({ ...base, timestamp: "1090" }).ok, false);

  const replayed = verifySignature({ ...base, nowSeconds: 1000 + 301 });
  assert.equal(replayed.ok, false);
  assert.match((replayed as { reason: string }).reason, /more than 300s away/);
  assert.equal(verifySignature({ ...base, nowSeconds: 2000, toleranceSeconds: 1000 }).ok, true);

  assert.match(
    (verifySignature({ ...base, signature: undefined }) as { reason: string }).reason,
    /missing x-tfs-rollout-signature/,
  );
  assert.match(
    (verifySignature({ ...base, timestamp: "soon" }) as { reason: string }).reason,
    /non-numeric x-tfs-rollout-timestamp/,
  );
  assert.equal(verifySignature({ ...base, signature: "sha256=00" }).ok, false);
});
