// Issue 9's invariants, checked after every reliability scenario against a rollout world (test/helpers/
// rollout-world.ts): models.config parses and passes TF Serving's own rules with the AVAILABLE versions it
// observes (src/modelconfig/validate.ts, strict label mode); `stable` resolves through the emulator to a version on
// disk that answers a Predict with finite outputs; no guarded version directory (serving, stable, previous, pinned,
// in flight) lost a byte, except a rejected candidate moved to quarantine whole; nothing outside the base paths,
// models.config (and its atomic-write temp files) and the state directory changed, by a full tree listing; and, once
// the daemon is idle, the journal has nothing unfinished and no version is left a bare candidate.
// Every violation and every lost version is also tallied for the suite's summary table.
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { parseModelServerConfigBytes } from "../../src/modelconfig/load.js";
import { validateModelServerConfig, localBasePathProbe } from "../../src/modelconfig/validate.js";
import { openLocalState } from "../../src/state/local-store.js";
import { configState, invariantViolations, type World } from "../helpers/rollout-world.js";
import { tally } from "./tally.js";
import { diffTrees, snapshotTree, type Tree } from "./tree.js";

export interface Guard {
  world: World;
  models: string[];
  before: Tree;
  /** `model/version` → that version's files (relative to the version dir) and their entries. */
  kept: Map<string, Tree>;
  /** Adds a version published during the scenario to the guarded ones (call once it must survive). */
  protect(model: string, version: string): void;
  /** The test itself changed this file (relative to the world root), e.g. daemon.yaml: not the daemon's doing. */
  accept(path: string): void;
}

const VERSION = /^\d+$/;

/** Snapshots the world and guards every version directory on disk now. Adds a bystander file beside it. */
export function guardWorld(world: World, models = ["m"]): Guard {
  mkdirSync(join(world.root, "bystander"), { recursive: true });
  writeFileSync(join(world.root, "bystander", "notes.txt"), "not the daemon's to touch\n");
  const kept = new Map<string, Tree>();
  const guard: Guard = {
    world,
    models,
    before: snapshotTree(world.root),
    kept,
    protect(model, version) {
      kept.set(`${model}/${version}`, snapshotTree(join(world.root, "models", model, version)));
    },
    accept(path) {
      const entry = snapshotTree(world.root).get(path);
      if (entry === undefined) guard.before.delete(path);
      else guard.before.set(path, entry);
    },
  };
  for (const model of models)
    for (const [path, entry] of guard.before) {
      const [top, m, version, ...rest] = path.split("/");
      if (top === "models" && m === model && version && VERSION.test(version) && rest.length === 0)
        if (entry.type === "dir") guard.protect(model, version);
    }
  return guard;
}

export interface CheckOptions {
  /** Versions that may end quarantined (renamed whole to `.rejected-<v>-…`) or deleted by `rollback.action`. */
  rejectable?: string[];
  /** The daemon is back and idle: the journal must be settled and no version left a bare candidate. */
  settled?: boolean;
  /** Scenario name for the tallies. */
  scenario: string;
  /** Do not tally (the checker's own tests break the world on purpose). */
  untallied?: boolean;
}

export interface CheckResult {
  violations: string[];
  lost: string[];
}

export async function checkWorld(guard: Guard, options: CheckOptions): Promise<CheckResult> {
  const { world } = guard;
  const violations: string[] = [];
  for (const model of guard.models)
    violations.push(...(await invariantViolations(world, model)).map((v) => `${model}: ${v}`));
  violations.push(...(await configViolations(world, guard.models)));
  for (const model of guard.models) violations.push(...(await stableViolations(world, model)));
  violations.push(...outsideChanges(guard));
  if (options.settled) violations.push(...(await settledViolations(world, guard.models)));
  const lost = lostVersions(guard, options.rejectable ?? []);
  if (options.untallied) return { violations, lost };
  for (const v of violations) tally("invariant_violations", `${options.scenario}: ${v}`);
  for (const l of lost) tally("data_lost", `${options.scenario}: ${l}`);
  return { violations, lost };
}

async function configViolations(world: World, models: string[]): Promise<string[]> {
  let message;
  try {
    message = parseModelServerConfigBytes(readFileSync(world.configFile), world.configFile).message;
  } catch (error) {
    return [`models.config does not parse: ${(error as Error).message}`];
  }
  const availableVersions: Record<string, string[]> = {};
  for (const model of models)
    availableVersions[model] = (await world.grpc.getModelStatus(model).catch(() => []))
      .filter((s) => s.state === "AVAILABLE")
      .map((s) => s.version);
  const findings = await validateModelServerConfig(message, {
    allowVersionLabelsForUnavailableModels: true,
    availableVersions,
    probe: localBasePathProbe,
  });
  return findings
    .filter((f) => f.severity === "error")
    .map((f) => `models.config breaks TF Serving's rules: ${f.path}: ${f.message}`);
}

async function stableViolations(world: World, model: string): Promise<string[]> {
  const stable = configState(world, model).labels.stable;
  if (stable === undefined) return [];
  try {
    const reply = await world.grpc.predict({
      model_spec: { name: model, version_label: "stable" },
      inputs: {
        x: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "1" }, { size: "1" }] }, float_val: [4] },
      },
    });
    const answered = String((reply.model_spec as { version?: { value?: unknown } }).version?.value);
    const values = (reply.outputs as Record<string, { float_val?: number[] }>).y?.float_val ?? [];
    if (answered !== stable)
      return [`${model}: stable is ${stable} in models.config but ${answered} answered`];
    if (values.length === 0 || !values.every(Number.isFinite))
      return [`${model}: stable ${stable} answered non-finite outputs ${JSON.stringify(values)}`];
    return [];
  } catch (error) {
    return [`${model}: stable ${stable} does not answer: ${(error as Error).message}`];
  }
}

function isAllowedPath(path: string, models: string[], root: string): boolean {
  if (path === "models.config" || path.startsWith(".models.config.tmp-")) return true;
  if (path === "state" || path.startsWith("state/")) return true;
  return models.some(
    (m) => path.startsWith(`models/${m}/`) || path.startsWith(`${resolvedBasePath(root, m)}/`),
  );
}

/** A symlinked base path (`models/m -> ../releases/a`) is guarded as the directory it resolves to now. */
function resolvedBasePath(root: string, model: string): string {
  const base = join(root, "models", model);
  const real = existsSync(base) ? realpathSync(base) : base;
  return relative(realpathSync(root), real).split(sep).join("/");
}

function outsideChanges(guard: Guard): string[] {
  return diffTrees(guard.before, snapshotTree(guard.world.root))
    .filter((c) => !isAllowedPath(c.path, guard.models, guard.world.root))
    .map((c) => `${c.path} was ${c.change}, outside the base paths, models.config and the state dir`);
}

function lostVersions(guard: Guard, rejectable: string[]): string[] {
  const lost: string[] = [];
  for (const [key, files] of guard.kept) {
    const [model, version] = key.split("/") as [string, string];
    const base = join(guard.world.root, "models", model);
    if (sameFiles(files, snapshotTree(join(base, version)))) continue;
    if (rejectable.includes(version)) {
      const after = snapshotTree(base);
      const quarantined = [...after.keys()].filter(
        (p) => p.startsWith(`.rejected-${version}-`) && !p.includes("/"),
      );
      if (quarantined.some((q) => sameFiles(files, snapshotTree(join(base, q))))) continue;
      if (!after.has(version) && quarantined.length === 0) continue; // deleted by rollback.action: delete
    }
    lost.push(`${key} lost or changed files`);
  }
  return lost;
}

function sameFiles(expected: Tree, actual: Tree): boolean {
  for (const [path, entry] of expected) {
    const now = actual.get(path);
    if (now === undefined || now.type !== entry.type || now.content !== entry.content) return false;
  }
  return true;
}

async function settledViolations(world: World, models: string[]): Promise<string[]> {
  const state = await openLocalState(world.stateDir);
  const out: string[] = [];
  for (const model of models) {
    const unfinished = await state.journal.unfinished(model);
    if (unfinished.length > 0)
      out.push(`${model}: journal has unfinished steps ${JSON.stringify(unfinished.map((e) => e.step))}`);
    for (const record of await state.verdicts.list(model))
      if (record.verdict === "candidate")
        out.push(`${model}: version ${record.version} is stuck a candidate`);
  }
  return out;
}
