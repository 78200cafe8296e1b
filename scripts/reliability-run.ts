// `npm run test:reliability`: runs test/reliability/*.test.ts with a fresh tally dir, then prints the summary
// table (scripts/reliability-summary.ts). Exits non-zero when a test failed or the table shows a violation or loss.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TALLY_DIR_ENV } from "../test/reliability/tally.js";

const dir = mkdtempSync(join(tmpdir(), "tfs-rollout-reliability-"));
const files = readdirSync("test/reliability")
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => join("test/reliability", f));
const env = { ...process.env, [TALLY_DIR_ENV]: dir };
// No shell: argv arrays only.
const tests = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=1",
    "--test-timeout=300000",
    "--test-reporter=./scripts/summary-reporter.mjs",
    ...files,
  ],
  { stdio: "inherit", env },
);
const summary = spawnSync(process.execPath, ["--import", "tsx", "scripts/reliability-summary.ts", dir], {
  stdio: "inherit",
  env,
});
rmSync(dir, { recursive: true, force: true });
process.exitCode = tests.status !== 0 ? (tests.status ?? 1) : (summary.status ?? 1);
