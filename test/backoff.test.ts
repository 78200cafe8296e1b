import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Backoff, retryWithBackoff } from "../src/tfserving/backoff.js";

test("nominal delays grow by the multiplier and stop at maxMs", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 500, multiplier: 2, random: () => 0.5 });
  const delays = Array.from({ length: 6 }, () => backoff.nextDelayMs());
  assert.deepEqual(delays, [100, 200, 400, 500, 500, 500]);
  backoff.reset();
  assert.equal(backoff.nextDelayMs(), 100);
});

test("jitter spreads each delay over ±jitter of its nominal value", () => {
  const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  assert.equal(low.nextDelayMs(), 800);
  assert.equal(high.nextDelayMs(), 1200);
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
      const delay = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => r }).nextDelayMs();
      return delay >= 800 && delay <= 1200;
    }),
  );
});

test("defaults follow grpc-js (1 s initial, ×1.6, 120 s cap, 20 % jitter)", () => {
  const backoff = new Backoff({ random: () => 0.5 });
  assert.deepEqual(
    [backoff.initialMs, backoff.multiplier, backoff.maxMs, backoff.jitter],
    [1000, 1.6, 120_000, 0.2],
  );
  assert.deepEqual([backoff.nextDelayMs(), backoff.nextDelayMs()], [1000, 1600]);
});

test("clone starts a fresh sequence with the same settings and the same sleep", async () => {
  const slept: number[] = [];
  const backoff = new Backoff({ initialMs: 10, random: () => 0.5, sleep: async (ms) => void slept.push(ms) });
  backoff.nextDelayMs();
  backoff.nextDelayMs();
  await backoff.clone().wait();
  assert.deepEqual(slept, [10]);
});

test("wait sleeps the next delay, cut to the cap", async () => {
  const slept: number[] = [];
  const backoff = new Backoff({
    initialMs: 100,
    random: () => 0.5,
    sleep: async (ms) => void slept.push(ms),
  });
  assert.equal(await backoff.wait(), 100);
  assert.equal(await backoff.wait(30), 30);
  assert.deepEqual(slept, [100, 30]);
});

test("invalid settings are refused", () => {
  assert.throws(() => new Backoff({ initialMs: -1 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ multiplier: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 1.5 }), RangeError);
});

function fakeTime() {
  const time = { now: 0, slept: [] as number[] };
  const backoff = new Backoff({
    initialMs: 10,
    maxMs: 40,
    multiplier: 2,
    random: () => 0.5,
    sleep: async (ms) => {
      time.slept.push(ms);
      time.now += ms;
    },
  });
  return { time, backoff };
}

test("retryWithBackoff retries retryable failures until success", async () => {
  const { time, backoff } = fakeTime();
  const seen: number[] = [];
  const result = await retryWithBackoff(
    async (n) => {
      seen.push(n);
      if (n < 3) throw new Error("transient");
      return "ok";
    },
    { backoff, attempts: 5, retryable: () => true, now: () => time.now },
  );
  assert.equal(result, "ok");
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(time.slept, [10, 20]);
});

test("retryWithBackoff gives up after the attempts and rethrows the last error", async () => {
  const { time, backoff } = fakeTime();
  let n = 0;
  await assert.rejects(
    retryWithBackoff(
      async () => {
        throw new Error(`failure ${++n}`);
      },
      { backoff, attempts: 4, retryable: () => true, now: () => time.now },
    ),
    /failure 4/,
  );
  assert.deepEqual(time.slept, [10, 20, 40]);
});

test("retryWithBackoff does not retry what is not retryable", async () => {
  const { time, backoff } = fakeTime();
  let n = 0;
  await assert.rejects(
    retryWithBackoff(
      async () => {
        n++;
        throw new Error("permanent");
      },
      { backoff, attempts: 10, retryable: (e) => !String(e).includes("permanent"), now: () => time.now },
    ),
    /permanent/,
  );
  assert.equal(n, 1);
  assert.deepEqual(time.slept, []);
});

test("retryWithBackoff stops at the overall deadline and never sleeps past it", async () => {
  const { time, backoff } = fakeTime();
  let n = 0;
  await assert.rejects(
    retryWithBackoff(
      async () => {
        n++;
        throw new Error("down");
      },
      { backoff, attempts: 100, overallDeadlineMs: 45, retryable: () => true, now: () => time.now },
    ),
    /down/,
  );
  assert.deepEqual(time.slept, [10, 20, 15]); // the last wait is cut to the 15 ms left
  assert.equal(n, 4);
});
