// Node test-runner reporter: one line per test, failure details, and a closing plain line
// "N passed, N failed, N skipped" (suites are not counted; a failed suite hook counts as a failure).
import { relative } from "node:path";

function indent(nesting) {
  return "  ".repeat(nesting);
}

function describeError(error) {
  const cause = error?.cause ?? error;
  const text = cause?.stack ?? cause?.message ?? String(cause);
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}

export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const event of source) {
    const data = event.data;
    if (event.type === "test:stderr" || event.type === "test:stdout") {
      yield data.message;
      continue;
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const isSuite = data.details?.type === "suite";
    const ms = data.details?.duration_ms?.toFixed(1) ?? "?";
    if (event.type === "test:pass") {
      const marker = data.skip || data.todo ? "-" : "✔";
      yield `${indent(data.nesting)}${marker} ${data.name} (${ms} ms)${data.skip ? ` # SKIP ${data.skip === true ? "" : data.skip}` : ""}\n`;
      if (isSuite) continue;
      if (data.skip || data.todo) skipped++;
      else passed++;
    } else {
      yield `${indent(data.nesting)}✖ ${data.name} (${ms} ms)\n`;
      if (isSuite && data.details?.error?.failureType !== "hookFailed") continue;
      failed++;
      const where = data.file ? relative(process.cwd(), data.file) : "";
      failures.push(`✖ ${where} › ${data.name}\n${describeError(data.details?.error)}\n`);
    }
  }
  if (failures.length > 0) yield `\nFailures:\n${failures.join("\n")}`;
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
