/**
 * `tfs-rollout smoke MODEL VERSION`: runs the model's gates against that version NOW, with exactly the input the
 * daemon's gate step builds (engine/gate-input.ts: the model's gate settings, `stable` as the reference, the
 * version's directory for warmup replay), and prints the report: each check with its numbers, and the failing
 * request/response summary. Records nothing (no journal entry, no verdict, no lock). The version must be loaded
 * in TF Serving (AVAILABLE); it is while it is a candidate, or while `specific` lists it.
 *
 * Exit codes: 0 passed; 1 failed, or the version is not loaded; 2 usage; 3 TF Serving unreachable.
 */
import { isAbsolute, join } from "node:path";
import type { Command } from "commander";
import { BasePathError, listVersionDirs } from "../admission/version-dirs.js";
import { buildSmokeGateInput } from "../engine/gate-input.js";
import { findModel, observeStatus, observedModelConfig } from "../engine/observe.js";
import { configForModel } from "../daemon-config/model-view.js";
import { ExitCode, RolloutError, UnreachableError, UsageError } from "../errors.js";
import type { GateResult } from "../gate/gate-result.js";
import { runSmokeGate } from "../gate/smoke-gate.js";
import type { CommandContext } from "../program.js";
import { RestClient } from "../tfserving/rest-client.js";
import { numbersText } from "./audit.js";
import { printJson } from "./io.js";
import { addLookOptions, withLook, type Look } from "./look.js";
import { clipText, formatDuration } from "./table.js";

export interface SmokeReport {
  model: string;
  version: string;
  /** The version the gate compared against (`stable` now), unless it is the version itself. */
  stable: string | null;
  passed: boolean;
  duration_ms: number;
  checks: GateResult["checks"];
  failing_exchange?: GateResult["failingExchange"];
}

export function registerSmoke(program: Command, ctx: CommandContext): void {
  const command = program
    .command("smoke")
    .description("run the model's gates against a loaded version now and print the report (records nothing)")
    .argument("<model>", "the model, as named in models.config")
    .argument("<version>", "the version number; it must be loaded (AVAILABLE) in TF Serving");
  addLookOptions(command);
  command.action(async (model: string, version: string, opts: Record<string, unknown>) => {
    const canonical = canonicalVersion(version);
    const report = await withLook(ctx, opts, (look) => smoke(look, model, canonical));
    if (opts.json === true) printJson(ctx.io, report);
    else ctx.io.stdout(renderSmoke(report));
    ctx.result.code = report.passed ? ExitCode.ok : ExitCode.failed;
  });
}

function canonicalVersion(version: string): string {
  if (!/^-?\d+$/.test(version))
    throw new UsageError(`VERSION must be a version number, not ${JSON.stringify(version)}`, {
      hint: "for example: tfs-rollout smoke my_model 7",
    });
  return BigInt(version).toString();
}

export async function smoke(look: Look, model: string, version: string): Promise<SmokeReport> {
  const file = look.config.model_config_file;
  const config = observedModelConfig(findModel(look.models.message, model));
  if (config === undefined)
    throw new UsageError(`model ${JSON.stringify(model)} is not in models.config`, {
      where: file,
      hint: "name a model of models.config (tfs-rollout status lists them)",
    });
  const address = look.config.tf_serving.grpc_address;
  const status = await observeStatus(look.grpc, model);
  if (status.kind === "unreachable") throw unreachable(address, status.reason);
  const state = status.versions.find((s) => s.version === version);
  if (state?.state !== "AVAILABLE") {
    const now =
      state === undefined
        ? "TF Serving does not list it"
        : `TF Serving reports it ${state.state}${state.error_code !== "OK" ? ` (${state.error_code}: ${state.error_message})` : ""}`;
    throw new RolloutError(
      `version ${version} of ${model} is not loaded, so it cannot be smoke-tested: ${now}`,
      {
        where: address,
        hint:
          "a version is loaded while it is a candidate (the daemon loads it beside stable) or while the model's " +
          "specific policy lists it; `tfs-rollout status " +
          model +
          "` shows TF Serving's state of every version",
      },
    );
  }
  const settings = configForModel(look.config, model);
  const stable = config.labels.stable;
  const rest = look.config.tf_serving.rest_url
    ? new RestClient({
        baseUrl: look.config.tf_serving.rest_url,
        timeoutMs: look.config.gate.request_deadline,
      })
    : undefined;
  const candidateDir = await versionDir(config.basePath, version);
  const result = await runSmokeGate(
    buildSmokeGateInput({
      model,
      version,
      ...(stable === undefined || stable === version ? {} : { stable }),
      grpc: look.grpc,
      ...(rest ? { rest } : {}),
      settings,
      ...(candidateDir === undefined ? {} : { candidateDir }),
    }),
  );
  if (!result.passed) {
    // A failure because TF Serving went away says nothing about the version.
    const after = await observeStatus(look.grpc, model);
    if (after.kind === "unreachable") throw unreachable(address, after.reason);
  }
  return {
    model,
    version,
    stable: stable === undefined || stable === version ? null : stable,
    passed: result.passed,
    duration_ms: result.durationMs,
    checks: result.checks,
    ...(result.failingExchange ? { failing_exchange: result.failingExchange } : {}),
  };
}

function unreachable(address: string, reason: string): UnreachableError {
  return new UnreachableError(`TF Serving at ${address} is unreachable: ${reason}`, {
    where: address,
    hint: "start TF Serving, or give its gRPC address with --grpc HOST:PORT (or tf_serving.grpc_address in --config)",
  });
}

/** The version's directory (for warmup replay), when base_path is a local directory that holds it. */
async function versionDir(basePath: string, version: string): Promise<string | undefined> {
  if (!isAbsolute(basePath)) return undefined;
  try {
    const dir = (await listVersionDirs(basePath)).versions.find((v) => v.version === version);
    return dir === undefined ? undefined : join(basePath, dir.dirName);
  } catch (error) {
    if (error instanceof BasePathError) return undefined;
    throw error;
  }
}

export function renderSmoke(r: SmokeReport): string {
  let out = `smoke ${r.model} ${r.version}${r.stable ? ` (against stable ${r.stable})` : ""}: ${
    r.passed ? "PASSED" : "FAILED"
  } — ${r.checks.filter((c) => c.passed).length}/${r.checks.length} checks passed in ${formatDuration(r.duration_ms)}\n`;
  for (const c of r.checks) {
    const numbers = numbersText(c.numbers);
    out += `  ${c.passed ? "pass" : "FAIL"}  ${c.name}: ${c.detail}${c.skipped && !c.detail.includes(c.skipped) ? ` (skipped: ${c.skipped})` : ""}\n`;
    if (numbers) out += `        ${numbers}\n`;
    for (const change of c.changes ?? [])
      out += `        ${change.breaking ? "breaking" : "compatible"}: ${change.detail}\n`;
  }
  if (r.failing_exchange) {
    out += "  failing exchange:\n";
    out += `    request:  ${clipText(JSON.stringify(r.failing_exchange.request), 300)}\n`;
    out += `    response: ${clipText(JSON.stringify(r.failing_exchange.response), 300)}\n`;
  }
  return out;
}
