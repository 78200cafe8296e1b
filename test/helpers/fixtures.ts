import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** ../shared/fixtures beside the checkout: TF Serving's real test models, read in place, never copied. */
export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../shared/fixtures");
export const TFSERVING_TESTDATA = join(FIXTURES_DIR, "tfserving-testdata");

/**
 * For conformance tests: `test(name, { skip: fixturesSkip() }, ...)`. Absent fixtures skip with a stated reason on
 * a user's machine; under CI=true (where ../shared is always beside the checkout) they are a failure instead.
 */
export function fixturesSkip(): string | false {
  if (existsSync(TFSERVING_TESTDATA)) return false;
  if (process.env.CI === "true")
    throw new Error(`CI=true but the real TF Serving fixtures are absent: ${FIXTURES_DIR}`);
  return `real TF Serving fixtures absent (expected ${FIXTURES_DIR}); conformance not checked`;
}

/**
 * For tests that need a Debian tool: false when present, a stated reason when absent, and a failure under CI=true.
 */
export function toolSkip(tool: string, debianPackage: string): string | false {
  const found = (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, tool)));
  if (found) return false;
  if (process.env.CI === "true")
    throw new Error(`CI=true but ${tool} is not installed (Debian package ${debianPackage})`);
  return `${tool} not installed (apt-get install ${debianPackage}); check skipped`;
}
