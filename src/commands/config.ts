import type { Command } from "commander";
import { ExitCode, RolloutError, UsageError, describeError } from "../errors.js";
import { modelServerConfigToJson } from "../modelconfig/json.js";
import { type LoadedModelServerConfig, loadModelServerConfig } from "../modelconfig/load.js";
import { type Finding, localBasePathProbe, validateModelServerConfig } from "../modelconfig/validate.js";
import type { CommandContext } from "../program.js";
import { type CliIo, printJson } from "./io.js";

interface CheckOptions {
  json?: boolean;
  allowVersionLabels?: boolean;
  fsCheck: boolean;
}

interface PrintOptions {
  json?: boolean;
  protoNames?: boolean;
}

export function registerConfig(program: Command, ctx: CommandContext): void {
  const config = program.command("config").description("Check or print a TF Serving models.config file");

  config
    .command("check")
    .description(
      "Check a models.config the way TF Serving would. Exit 0 when TF Serving would accept it (warnings, printed " +
        "to stderr, do not fail the check: TF accepts those configs, they only bite later); exit 1 on any error " +
        "or when the file is missing or does not parse.",
    )
    .argument("<file>", "models.config (protobuf text format of tensorflow.serving.ModelServerConfig)")
    .option("--json", "print {file, valid, errors, warnings, findings} on stdout")
    .option(
      "--allow-version-labels",
      "TF Serving runs with --allow_version_labels_for_unavailable_models=true (no warning for labels in the file)",
    )
    .option("--no-fs-check", "do not look at base paths and version directories on this machine")
    .action(async (file: string, options: CheckOptions) => {
      ctx.result.code = await checkCommand(ctx.io, file, options);
    });

  config
    .command("print")
    .description("Print a models.config as protobuf JSON (any file that parses; exit 1 when it does not)")
    .argument("<file>", "models.config (protobuf text format of tensorflow.serving.ModelServerConfig)")
    .option("--json", "protobuf's canonical JSON mapping (the only output format for now)")
    .option("--proto-names", "keep the .proto field names (snake_case) instead of lowerCamelCase")
    .action(async (file: string, options: PrintOptions) => {
      if (!options.json) {
        throw new UsageError("config print needs --json (protobuf JSON is the only output format)", {
          hint: `run: tfs-rollout config print --json ${file}`,
        });
      }
      const loaded = await loadOrReport(ctx.io, file);
      if (loaded instanceof RolloutError) {
        ctx.result.code = ExitCode.failed;
        return;
      }
      printJson(ctx.io, modelServerConfigToJson(loaded.message, { protoNames: options.protoNames === true }));
    });
}

async function checkCommand(io: CliIo, file: string, options: CheckOptions): Promise<number> {
  const loaded = await loadOrReport(io, file);
  const findings: Finding[] =
    loaded instanceof RolloutError
      ? [
          {
            severity: "error",
            code: "unreadable",
            path: "",
            message: loaded.message,
            hint: loaded.hint ?? "",
          },
        ]
      : await validateModelServerConfig(loaded.message, {
          allowVersionLabelsForUnavailableModels: options.allowVersionLabels === true,
          probe: options.fsCheck ? localBasePathProbe : undefined,
        });
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  if (options.json) {
    printJson(io, { file, valid: errors === 0, errors, warnings, findings });
  } else if (!(loaded instanceof RolloutError)) {
    for (const f of findings) io.stderr(`${formatFinding(file, f)}\n`);
    const verdict = errors === 0 ? "valid" : "invalid";
    io.stderr(`${file}: ${verdict} (${plural(errors, "error")}, ${plural(warnings, "warning")})\n`);
  }
  return errors === 0 ? ExitCode.ok : ExitCode.failed;
}

/** Loads the file; on failure prints the located error to stderr and returns it. */
async function loadOrReport(io: CliIo, file: string): Promise<LoadedModelServerConfig | RolloutError> {
  try {
    return await loadModelServerConfig(file, { cwd: io.cwd });
  } catch (error) {
    if (!(error instanceof RolloutError)) throw error;
    io.stderr(`tfs-rollout: ${describeError(error)}\n`);
    return error;
  }
}

/** `FILE: model NAME: message` for errors, `FILE: model NAME: warning: message` for warnings, then the hint. */
export function formatFinding(file: string, finding: Finding): string {
  const model = finding.model === undefined ? "" : ` model ${finding.model}:`;
  const level = finding.severity === "warning" ? " warning:" : "";
  return `${file}:${model}${level} ${finding.message}\n  hint: ${finding.hint}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
