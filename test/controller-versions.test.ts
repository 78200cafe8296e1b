import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareVersions,
  isFailedEnd,
  isPlainChildName,
  modelPolicy,
  quarantineName,
  samePolicy,
  sortVersions,
} from "../src/controller/versions.js";
import { status } from "./helpers/controller-world.js";

test("versions sort numerically across the whole int64 range, not as strings", () => {
  assert.deepEqual(sortVersions(["10", "9", "-3", "9223372036854775807", "9223372036854775806", "9"]), [
    "-3",
    "9",
    "10",
    "9223372036854775806",
    "9223372036854775807",
  ]);
  assert.equal(compareVersions("9223372036854775807", "9223372036854775806"), 1, "beyond Number precision");
});

test("policies compare regardless of list and label order", () => {
  assert.ok(
    samePolicy(
      { specific: ["3", "2"], labels: { b: "3", a: "2" } },
      modelPolicy(["2", "3"], { a: "2", b: "3" }),
    ),
  );
  assert.ok(!samePolicy({ specific: ["2"], labels: {} }, { specific: ["2", "3"], labels: {} }));
});

test("quarantine names are deterministic, hidden and never parse as a version", () => {
  assert.equal(quarantineName("7", Date.UTC(2026, 10, 21, 23, 5, 9, 123)), ".rejected-7-20261121T230509Z");
});

test("only plain child names may be quarantined", () => {
  for (const bad of ["", ".", "..", "a/b", "../7", "/7"]) assert.equal(isPlainChildName(bad), false, bad);
  for (const good of ["7", "007", " 7 ", "+7"]) assert.equal(isPlainChildName(good), true, good);
});

test("END with an error is a failed load; END with OK is a normal unload", () => {
  assert.equal(isFailedEnd(status("1", "END", "boom")), true);
  assert.equal(isFailedEnd(status("1", "END")), false);
  assert.equal(isFailedEnd(status("1", "LOADING")), false);
});
