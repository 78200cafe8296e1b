import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { validate, ValidationSeverity, type ValidatorSettings } from "dockerfile-utils";

// Docker cannot build here, so the Dockerfile is checked offline: dockerfile-utils' linter plus its structure.
const DOCKERFILE = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
const DOCKERIGNORE = readFileSync(new URL("../.dockerignore", import.meta.url), "utf8");

const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

function finalStage(all: Instruction[]): Instruction[] {
  const start = all.map((i) => i.keyword).lastIndexOf("FROM");
  return all.slice(start);
}

test("the Dockerfile passes the linter with every rule as an error", () => {
  assert.deepEqual(
    validate(DOCKERFILE, STRICT).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    [],
  );
});

test("the linter does flag a broken Dockerfile (the check above is not vacuous)", () => {
  const broken = DOCKERFILE.replace("WORKDIR /app", "workdir app").replace("EXPOSE 9464", "EXPOSE nine");
  assert.ok(validate(broken, STRICT).length >= 2);
});

test("two stages from node 20 slim; the runtime runs as non-root under tini with production dependencies", () => {
  const all = instructions(DOCKERFILE);
  const froms = all.filter((i) => i.keyword === "FROM").map((i) => i.args);
  assert.equal(froms.length, 2);
  for (const from of froms) assert.match(from, /^node:20[.\d]*-\w+-slim AS \w+$/);
  const runtime = finalStage(all);
  const user = runtime.filter((i) => i.keyword === "USER").at(-1)?.args ?? "root";
  assert.doesNotMatch(user, /^(root|0)(:|$)/);
  assert.ok(runtime.some((i) => i.keyword === "RUN" && /apt-get install .*\btini\b/.test(i.args)));
  const entrypoint = JSON.parse(runtime.find((i) => i.keyword === "ENTRYPOINT")!.args) as string[];
  assert.deepEqual(entrypoint.slice(0, 2), ["/usr/bin/tini", "--"]);
  assert.ok(runtime.some((i) => i.keyword === "RUN" && /npm ci --omit=dev\b/.test(i.args)));
});

test("the runtime stage copies only production files", () => {
  const copies = finalStage(instructions(DOCKERFILE)).filter((i) => i.keyword === "COPY");
  const fromContext = copies
    .filter((c) => !c.args.startsWith("--from="))
    .flatMap((c) => c.args.split(" ").slice(0, -1));
  assert.deepEqual(fromContext.sort(), ["config", "package-lock.json", "package.json", "protos"]);
  const fromBuild = copies.filter((c) => c.args.startsWith("--from=")).map((c) => c.args.split(" ")[1]);
  assert.deepEqual(fromBuild, ["/src/dist"]);
});

test(".dockerignore excludes everything but what the build copies", () => {
  const lines = DOCKERIGNORE.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(lines[0], "*");
  const allowed = [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "src/",
    "protos/",
    "config/",
  ];
  assert.deepEqual(lines.slice(1).sort(), allowed.map((p) => `!${p}`).sort());
});
