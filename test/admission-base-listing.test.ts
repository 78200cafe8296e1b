import assert from "node:assert/strict";
import { mkdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  baseListingKey,
  listingChanged,
  MISSING_LISTING,
  UNSETTLED_LISTING,
} from "../src/admission/base-listing.js";
import { tempDir } from "./helpers/version-dir.js";

const LATER = () => Date.now() + 3_600_000; // every change made by the test is long settled by then

test("the key stays the same while nothing changes, and changes when a version comes, goes or is replaced", async (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, "1"));
  const before = await baseListingKey(base, LATER());
  assert.equal(await baseListingKey(base, LATER()), before);
  mkdirSync(join(base, "2"));
  const added = await baseListingKey(base, LATER());
  assert.notEqual(added, before);
  const past = new Date(Date.now() - 86_400_000);
  utimesSync(base, past, past);
  const settled = await baseListingKey(base, LATER());
  rmSync(join(base, "2"), { recursive: true });
  mkdirSync(join(base, "2")); // the same names as before: only the mtime tells
  assert.notEqual(await baseListingKey(base, LATER()), settled);
});

test("a base path changed in the last 2 s is unsettled, which always counts as changed; a missing one is missing", async (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, "1"));
  const mtime = statSync(base).mtimeMs;
  assert.equal(await baseListingKey(base, mtime + 500), UNSETTLED_LISTING);
  assert.equal(listingChanged(UNSETTLED_LISTING, UNSETTLED_LISTING), true);
  const key = await baseListingKey(base, mtime + 5_000);
  assert.equal(listingChanged(key, key), false);
  assert.equal(await baseListingKey(join(base, "nope")), MISSING_LISTING);
  assert.equal(listingChanged(MISSING_LISTING, MISSING_LISTING), false);
});
