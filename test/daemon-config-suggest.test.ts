import assert from "node:assert/strict";
import { test } from "node:test";
import { didYouMean, editDistance } from "../src/daemon-config/suggest.js";

test("editDistance is the Levenshtein distance", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("quiet_window", "quiet_widnow"), 2);
  assert.equal(editDistance("flaw", "lawn"), 2);
});

test("didYouMean suggests the closest key for typos, other spellings of case, and nothing for strangers", () => {
  const keys = ["quiet_window", "marker_file", "incomplete_deadline"];
  assert.equal(didYouMean("quiet_windw", keys), "quiet_window");
  assert.equal(didYouMean("quietWindow", keys), "quiet_window");
  assert.equal(didYouMean("Marker-File", keys), "marker_file");
  assert.equal(didYouMean("incomplete_timeout", keys), undefined);
  assert.equal(didYouMean("color", keys), undefined);
  assert.equal(didYouMean("gatee", ["gate", "rollback"]), "gate");
});
